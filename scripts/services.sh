#!/usr/bin/env bash
# Makes sure PostgreSQL, Redis and RabbitMQ answer on their usual local ports, starting
# whichever does not (with the commands this kind of machine uses).
set -euo pipefail

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() {
  local name=$1 port=$2
  for _ in $(seq 1 60); do
    port_open "$port" && return 0
    sleep 1
  done
  echo "error: $name did not come up on port $port" >&2
  return 1
}

if ! port_open 5432; then
  echo "starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
  wait_port PostgreSQL 5432
fi
if ! port_open 6379; then
  echo "starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  wait_port Redis 6379
fi
if ! port_open 5672; then
  echo "starting RabbitMQ"
  rabbitmq-server -detached
  wait_port RabbitMQ 5672
fi
