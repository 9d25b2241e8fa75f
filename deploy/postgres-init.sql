-- Runs once, when the PostgreSQL volume is first initialized (docker-entrypoint-initdb.d):
-- one database per PostgreSQL-backed service (inventory is POSTGRES_DB itself).
CREATE DATABASE orders OWNER shop;
CREATE DATABASE payments OWNER shop;
CREATE DATABASE notifications OWNER shop;
