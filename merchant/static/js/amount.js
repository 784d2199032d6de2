// Parse what a cashier types ("12,50", "12.50", "€ 12", "1.234,56") into integer cents.
// Twin of kindpakket/money.py parse_amount; errors carry the same codes.

export const MAX_CENTS = 100000000 * 100;
const AMOUNT = /^(?<euros>\d{1,3}(?:[.\s]\d{3})+|\d+)?(?:[.,](?<cents>\d{1,2}))?$/;

/** An amount that cannot be used; `code` is invalid_amount, amount_not_positive or amount_too_large. */
export class AmountError extends Error {
  constructor(code) {
    super(code);
    this.name = "AmountError";
    this.code = code;
  }
}

function count(text, ch) {
  return text.split(ch).length - 1;
}

/** Return the cents for a typed amount, or throw AmountError. */
export function parseAmount(text) {
  let raw = String(text ?? "").trim().replace("€", "").replace("EUR", "").trim();
  if (raw.startsWith("-")) throw new AmountError("amount_not_positive");
  if (count(raw, ",") === 1 && raw.includes(".") && raw.lastIndexOf(".") < raw.lastIndexOf(",")) {
    raw = raw.replaceAll(".", "");
  } else if (
    count(raw, ".") === 1 && raw.includes(",") && raw.lastIndexOf(",") < raw.lastIndexOf(".")
  ) {
    raw = raw.replaceAll(",", "");
  }
  const match = AMOUNT.exec(raw);
  if (!raw || !match || (match.groups.euros === undefined && match.groups.cents === undefined)) {
    throw new AmountError("invalid_amount");
  }
  const euros = Number((match.groups.euros ?? "0").replace(/[.\s]/g, ""));
  const cents = euros * 100 + Number((match.groups.cents ?? "0").padEnd(2, "0"));
  if (cents <= 0) throw new AmountError("amount_not_positive");
  if (cents > MAX_CENTS || !Number.isSafeInteger(cents)) throw new AmountError("amount_too_large");
  return cents;
}
