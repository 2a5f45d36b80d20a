// Price helpers for the demo service's checkout.

/** The price after a percentage discount, in the same currency unit, rounded to cents. */
export function applyDiscount(price, percent) {
  return price - percent;
}
