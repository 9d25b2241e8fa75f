//! A cart and the operations on it.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use shop_kernel::auth::Viewer;
use uuid::Uuid;

use super::{LineRef, LineUpdate, MAX_LINES, NewLine, Quantity, RuleError, Sku};

/// A variant of a product in a cart. The cart stores no price: the catalog owns prices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CartLine {
    /// Stable within the cart: derived from the cart id and the SKU.
    pub id: Uuid,
    /// The catalog product.
    pub product_id: Uuid,
    /// The variant's SKU (unique within the cart).
    pub sku: Sku,
    /// Units wanted.
    pub quantity: Quantity,
}

/// A shopping cart: a guest's (anyone holding its id) or a signed-in user's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cart {
    id: Uuid,
    owner: Option<Uuid>,
    lines: Vec<CartLine>,
    version: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    /// The latest orders placed from this cart whose lines have left it, oldest first: a
    /// redelivered checkout finds its order here and takes nothing a second time.
    #[serde(default)]
    checked_out: Vec<String>,
}

/// How many checkouts a cart remembers. The bus redelivers within minutes, long before a cart
/// sees this many orders.
const REMEMBERED_CHECKOUTS: usize = 20;

impl Cart {
    /// A new empty cart at version 1. Guest carts (no `owner`) are addressed by `id` alone,
    /// so it must be unguessable (a random UUID).
    pub fn new(id: Uuid, owner: Option<Uuid>, now: DateTime<Utc>) -> Self {
        Self::blank(id, owner, now).next(Vec::new(), now)
    }

    /// A new cart at version 1 holding `lines` (summed per SKU).
    pub fn with_lines(id: Uuid, owner: Option<Uuid>, lines: &[NewLine], now: DateTime<Utc>) -> Result<Self, RuleError> {
        if lines.is_empty() { Ok(Self::new(id, owner, now)) } else { Self::blank(id, owner, now).add_lines(lines, now) }
    }

    /// Version 0: not yet a stored state; the first operation makes it version 1.
    fn blank(id: Uuid, owner: Option<Uuid>, now: DateTime<Utc>) -> Self {
        Self { id, owner, lines: Vec::new(), version: 0, created_at: now, updated_at: now, checked_out: Vec::new() }
    }

    /// The cart's id.
    pub const fn id(&self) -> Uuid {
        self.id
    }

    /// The user who owns the cart; `None` for a guest cart.
    pub const fn owner(&self) -> Option<Uuid> {
        self.owner
    }

    /// The lines, oldest first.
    pub fn lines(&self) -> &[CartLine] {
        &self.lines
    }

    /// Incremented by every change.
    pub const fn version(&self) -> i64 {
        self.version
    }

    /// When the cart was created.
    pub const fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }

    /// When the cart last changed.
    pub const fn updated_at(&self) -> DateTime<Utc> {
        self.updated_at
    }

    /// When an idle cart expires: `ttl` after its last change.
    pub fn expires_at(&self, ttl: Duration) -> DateTime<Utc> {
        chrono::Duration::from_std(ttl)
            .ok()
            .and_then(|ttl| self.updated_at.checked_add_signed(ttl))
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    }

    /// Units over all lines.
    pub fn total_quantity(&self) -> i64 {
        self.lines.iter().map(|l| i64::from(l.quantity)).sum()
    }

    /// Whether `viewer` may read the cart: anyone holding a guest cart's id; the owner or an
    /// admin for a user's cart.
    pub fn visible_to(&self, viewer: &Viewer) -> bool {
        self.owner.is_none_or(|owner| viewer.principal().is_some_and(|p| p.may_access(owner)))
    }

    /// Whether `viewer` may change the cart: anyone holding a guest cart's id; only the owner
    /// for a user's cart (admins read carts, they do not fill them).
    pub fn changeable_by(&self, viewer: &Viewer) -> bool {
        self.owner.is_none_or(|owner| viewer.principal().is_some_and(|p| p.user_id == owner))
    }

    /// Refuses a change based on another version than the stored one.
    pub fn check_version(&self, expected: Option<i64>) -> Result<(), RuleError> {
        match expected {
            Some(expected) if expected != self.version => Err(RuleError::VersionConflict { actual: self.version }),
            _ => Ok(()),
        }
    }

    /// Adds `lines`; a SKU already in the cart (or repeated in `lines`) has its quantities
    /// summed, which must stay within `1..=99`.
    pub fn add_lines(&self, lines: &[NewLine], now: DateTime<Utc>) -> Result<Self, RuleError> {
        if lines.is_empty() {
            return Err(RuleError::NoLines);
        }
        let mut next = self.lines.clone();
        for (index, new) in lines.iter().enumerate() {
            match next.iter_mut().find(|l| l.sku == new.sku) {
                Some(existing) if existing.product_id != new.product_id => {
                    return Err(RuleError::ProductMismatch { line: index, sku: new.sku.as_str().to_owned() });
                }
                Some(existing) => {
                    existing.quantity = existing
                        .quantity
                        .checked_add(new.quantity)
                        .ok_or(RuleError::InvalidQuantity { line: index })?;
                }
                None => next.push(self.line(new.product_id, new.sku.clone(), new.quantity)),
            }
        }
        if next.len() > MAX_LINES {
            return Err(RuleError::TooManyLines);
        }
        Ok(self.next(next, now))
    }

    /// Sets the quantity of existing lines; every referenced line must exist.
    pub fn update_lines(&self, updates: &[LineUpdate], now: DateTime<Utc>) -> Result<Self, RuleError> {
        if updates.is_empty() {
            return Err(RuleError::NoLines);
        }
        let mut next = self.lines.clone();
        for (index, update) in updates.iter().enumerate() {
            let position = self.position(&update.line).ok_or(RuleError::LineNotFound { line: index })?;
            if let Some(line) = next.get_mut(position) {
                line.quantity = update.quantity;
            }
        }
        Ok(self.next(next, now))
    }

    /// Removes the referenced lines; every one must exist (naming a line twice is fine).
    pub fn remove_lines(&self, references: &[LineRef], now: DateTime<Utc>) -> Result<Self, RuleError> {
        if references.is_empty() {
            return Err(RuleError::NoLines);
        }
        let mut doomed = Vec::with_capacity(references.len());
        for (index, reference) in references.iter().enumerate() {
            doomed.push(self.position(reference).ok_or(RuleError::LineNotFound { line: index })?);
        }
        let next = self.lines.iter().enumerate().filter(|(i, _)| !doomed.contains(i)).map(|(_, l)| l.clone()).collect();
        Ok(self.next(next, now))
    }

    /// Removes every line.
    pub fn clear(&self, now: DateTime<Utc>) -> Self {
        self.next(Vec::new(), now)
    }

    /// The cart after order `order_id` took `taken` (SKU, units) from it: each SKU's quantity
    /// drops by what the order took and a line left with none goes, so what was added after
    /// the checkout stays. `None` when this order's lines have already left (a redelivery).
    pub fn without_ordered(&self, order_id: &str, taken: &[(String, i64)], now: DateTime<Utc>) -> Option<Self> {
        if self.checked_out.iter().any(|order| order == order_id) {
            return None;
        }
        let lines = self
            .lines
            .iter()
            .filter_map(|line| {
                let took: i64 = taken.iter().filter(|(sku, _)| sku == line.sku.as_str()).map(|(_, units)| units).sum();
                let left = Quantity::parse(i64::from(line.quantity.get()) - took)?;
                Some(CartLine { quantity: left, ..line.clone() })
            })
            .collect();
        let mut next = self.next(lines, now);
        next.checked_out.push(order_id.to_owned());
        if next.checked_out.len() > REMEMBERED_CHECKOUTS {
            next.checked_out.remove(0);
        }
        Some(next)
    }

    /// Moves a guest's lines into `target` (the signed-in user's cart), or into a new cart
    /// `new_id` owned by `user` when they have none. Quantities of a SKU in both are summed
    /// and capped at 99; the result must hold at most [`MAX_LINES`] lines.
    pub fn merge(
        target: Option<&Self>,
        guest: &Self,
        user: Uuid,
        new_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Self, RuleError> {
        let base = target.cloned().unwrap_or_else(|| Self::blank(new_id, Some(user), now));
        let mut next = base.lines.clone();
        for line in &guest.lines {
            match next.iter_mut().find(|l| l.sku == line.sku) {
                Some(existing) => existing.quantity = existing.quantity.saturating_add(line.quantity),
                None => next.push(base.line(line.product_id, line.sku.clone(), line.quantity)),
            }
        }
        if next.len() > MAX_LINES {
            return Err(RuleError::TooManyLines);
        }
        Ok(base.next(next, now))
    }

    fn line(&self, product_id: Uuid, sku: Sku, quantity: Quantity) -> CartLine {
        CartLine { id: Uuid::new_v5(&self.id, sku.as_str().as_bytes()), product_id, sku, quantity }
    }

    fn position(&self, reference: &LineRef) -> Option<usize> {
        self.lines.iter().position(|line| match reference {
            LineRef::Id(id) => line.id == *id,
            LineRef::Sku(sku) => line.sku == *sku,
        })
    }

    fn next(&self, lines: Vec<CartLine>, now: DateTime<Utc>) -> Self {
        Self { lines, version: self.version + 1, updated_at: now, ..self.clone() }
    }
}

#[cfg(test)]
mod tests {
    use shop_kernel::auth::{Principal, Role};

    use super::*;

    fn at(second: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_767_225_600 + second, 0).unwrap()
    }

    fn new_line(product: u128, sku: &str, quantity: i64) -> NewLine {
        NewLine {
            product_id: Uuid::from_u128(product),
            sku: Sku::parse(sku).unwrap(),
            quantity: Quantity::parse(quantity).unwrap(),
        }
    }

    fn sku(s: &str) -> Sku {
        Sku::parse(s).unwrap()
    }

    fn quantities(cart: &Cart) -> Vec<(&str, u8)> {
        cart.lines().iter().map(|l| (l.sku.as_str(), l.quantity.get())).collect()
    }

    fn user(id: Uuid, roles: Vec<Role>) -> Viewer {
        Viewer::User(Principal { user_id: id, roles })
    }

    #[test]
    fn an_order_takes_what_it_bought_once_and_leaves_the_rest() {
        let cart = Cart::with_lines(Uuid::new_v4(), None, &[new_line(1, "A", 3), new_line(2, "B", 1)], at(0)).unwrap();
        let taken = [("A".to_owned(), 2), ("B".to_owned(), 1), ("Z".to_owned(), 4)];
        let after = cart.without_ordered("order-1", &taken, at(1)).unwrap();
        assert_eq!((quantities(&after), after.version()), (vec![("A", 1)], cart.version() + 1));
        assert_eq!(after.without_ordered("order-1", &taken, at(2)), None, "a redelivery takes nothing");
        // More than the cart holds (the customer lowered it after checkout) empties the line.
        let emptied = after.without_ordered("order-2", &[("A".to_owned(), 5)], at(3)).unwrap();
        assert!(emptied.lines().is_empty());
        // Only the latest checkouts are remembered.
        let mut many = emptied;
        for n in 0..=REMEMBERED_CHECKOUTS {
            many = many.without_ordered(&format!("bulk-{n}"), &[], at(4)).unwrap();
        }
        assert!(many.without_ordered("order-1", &taken, at(5)).is_some());
        assert_eq!(many.without_ordered(&format!("bulk-{REMEMBERED_CHECKOUTS}"), &[], at(5)), None);
    }

    #[test]
    fn a_new_cart_is_version_1_and_every_change_increments() {
        let cart = Cart::new(Uuid::new_v4(), None, at(0));
        assert_eq!((cart.version(), cart.lines().len(), cart.total_quantity()), (1, 0, 0));
        let added = cart.add_lines(&[new_line(1, "A", 2)], at(5)).unwrap();
        assert_eq!((added.version(), added.updated_at(), added.created_at()), (2, at(5), at(0)));
        assert_eq!(added.clear(at(6)).version(), 3);
        assert_eq!(cart.version(), 1, "operations return a new cart");
        assert_eq!(cart.add_lines(&[], at(1)), Err(RuleError::NoLines));
        assert_eq!(cart.update_lines(&[], at(1)), Err(RuleError::NoLines));
        assert_eq!(cart.remove_lines(&[], at(1)), Err(RuleError::NoLines));
        assert_eq!(Cart::with_lines(cart.id(), None, &[], at(0)), Ok(cart.clone()));
        assert_eq!(added.expires_at(Duration::from_secs(60)), at(65));
    }

    #[test]
    fn adding_sums_quantities_per_sku() {
        let cart = Cart::with_lines(
            Uuid::new_v4(),
            None,
            &[new_line(1, "A", 2), new_line(2, "B", 1), new_line(1, "A", 3)],
            at(0),
        )
        .unwrap();
        assert_eq!(cart.version(), 1);
        assert_eq!(quantities(&cart), vec![("A", 5), ("B", 1)]);
        let more = cart.add_lines(&[new_line(2, "B", 4), new_line(3, "C", 1)], at(1)).unwrap();
        assert_eq!(quantities(&more), vec![("A", 5), ("B", 5), ("C", 1)]);
        assert_eq!(more.total_quantity(), 11);
        assert_eq!(more.lines()[0].id, cart.lines()[0].id, "line ids are stable");
    }

    #[test]
    fn adding_refuses_what_would_break_a_rule() {
        let cart = Cart::with_lines(Uuid::new_v4(), None, &[new_line(1, "A", 90)], at(0)).unwrap();
        assert_eq!(
            cart.add_lines(&[new_line(2, "B", 1), new_line(1, "A", 10)], at(1)),
            Err(RuleError::InvalidQuantity { line: 1 })
        );
        assert_eq!(
            cart.add_lines(&[new_line(9, "A", 1)], at(1)),
            Err(RuleError::ProductMismatch { line: 0, sku: "A".into() })
        );
        let full: Vec<NewLine> = (0..100).map(|i| new_line(1, &format!("S-{i}"), 1)).collect();
        let full = Cart::with_lines(Uuid::new_v4(), None, &full, at(0)).unwrap();
        assert_eq!(full.lines().len(), 100);
        assert_eq!(full.add_lines(&[new_line(1, "ONE-MORE", 1)], at(1)), Err(RuleError::TooManyLines));
        assert!(full.add_lines(&[new_line(1, "S-3", 1)], at(1)).is_ok(), "an existing SKU adds no line");
    }

    #[test]
    fn updating_and_removing_by_line_id_or_sku() {
        let cart = Cart::with_lines(
            Uuid::new_v4(),
            None,
            &[new_line(1, "A", 1), new_line(2, "B", 2), new_line(3, "C", 3)],
            at(0),
        )
        .unwrap();
        let b_id = cart.lines()[1].id;
        let updated = cart
            .update_lines(
                &[
                    LineUpdate { line: LineRef::Id(b_id), quantity: Quantity::parse(7).unwrap() },
                    LineUpdate { line: LineRef::Sku(sku("C")), quantity: Quantity::parse(9).unwrap() },
                ],
                at(1),
            )
            .unwrap();
        assert_eq!(quantities(&updated), vec![("A", 1), ("B", 7), ("C", 9)]);
        let missing = LineUpdate { line: LineRef::Sku(sku("Z")), quantity: Quantity::parse(1).unwrap() };
        assert_eq!(cart.update_lines(&[missing], at(1)), Err(RuleError::LineNotFound { line: 0 }));

        let removed =
            updated.remove_lines(&[LineRef::Id(b_id), LineRef::Sku(sku("A")), LineRef::Sku(sku("A"))], at(2)).unwrap();
        assert_eq!(quantities(&removed), vec![("C", 9)]);
        assert_eq!(
            updated.remove_lines(&[LineRef::Sku(sku("A")), LineRef::Id(Uuid::new_v4())], at(2)),
            Err(RuleError::LineNotFound { line: 1 })
        );
    }

    #[test]
    fn merging_sums_caps_and_keeps_the_target() {
        let me = Uuid::new_v4();
        let mine =
            Cart::with_lines(Uuid::new_v4(), Some(me), &[new_line(1, "A", 60), new_line(2, "B", 1)], at(0)).unwrap();
        let guest =
            Cart::with_lines(Uuid::new_v4(), None, &[new_line(1, "A", 50), new_line(3, "C", 2)], at(0)).unwrap();
        let merged = Cart::merge(Some(&mine), &guest, me, Uuid::new_v4(), at(9)).unwrap();
        assert_eq!((merged.id(), merged.owner(), merged.version()), (mine.id(), Some(me), 2));
        assert_eq!(quantities(&merged), vec![("A", 99), ("B", 1), ("C", 2)]);

        let fresh_id = Uuid::new_v4();
        let fresh = Cart::merge(None, &guest, me, fresh_id, at(9)).unwrap();
        assert_eq!((fresh.id(), fresh.owner(), fresh.version(), fresh.created_at()), (fresh_id, Some(me), 1, at(9)));
        assert_eq!(quantities(&fresh), vec![("A", 50), ("C", 2)]);
        assert_ne!(fresh.lines()[0].id, guest.lines()[0].id, "line ids belong to their cart");

        let many: Vec<NewLine> = (0..60).map(|i| new_line(1, &format!("G-{i}"), 1)).collect();
        let big_guest = Cart::with_lines(Uuid::new_v4(), None, &many, at(0)).unwrap();
        let many: Vec<NewLine> = (0..60).map(|i| new_line(1, &format!("M-{i}"), 1)).collect();
        let big_mine = Cart::with_lines(Uuid::new_v4(), Some(me), &many, at(0)).unwrap();
        assert_eq!(Cart::merge(Some(&big_mine), &big_guest, me, Uuid::new_v4(), at(1)), Err(RuleError::TooManyLines));
    }

    #[test]
    fn version_checks() {
        let cart = Cart::new(Uuid::new_v4(), None, at(0));
        assert_eq!(cart.check_version(None), Ok(()));
        assert_eq!(cart.check_version(Some(1)), Ok(()));
        assert_eq!(cart.check_version(Some(0)), Err(RuleError::VersionConflict { actual: 1 }));
    }

    #[test]
    fn guests_carts_are_open_users_carts_are_their_owners() {
        let (me, other) = (Uuid::new_v4(), Uuid::new_v4());
        let guest = Cart::new(Uuid::new_v4(), None, at(0));
        let mine = Cart::new(Uuid::new_v4(), Some(me), at(0));
        let admin = user(other, vec![Role::Customer, Role::Admin]);
        for viewer in [Viewer::Anonymous, user(me, vec![Role::Customer]), admin.clone()] {
            assert!(guest.visible_to(&viewer) && guest.changeable_by(&viewer));
        }
        assert!(
            mine.visible_to(&user(me, vec![Role::Customer])) && mine.changeable_by(&user(me, vec![Role::Customer]))
        );
        assert!(!mine.visible_to(&Viewer::Anonymous) && !mine.changeable_by(&Viewer::Anonymous));
        assert!(
            !mine.visible_to(&user(other, vec![Role::Customer]))
                && !mine.changeable_by(&user(other, vec![Role::Customer]))
        );
        assert!(mine.visible_to(&admin), "admins may read any cart");
        assert!(!mine.changeable_by(&admin), "but not change another user's");
    }
}
