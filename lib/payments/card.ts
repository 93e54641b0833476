/**
 * Card numbers: the checks made before any provider sees a card, and the only parts of a card
 * the shop keeps (brand and last 4). The full number and the CVC are never stored or logged.
 */

export interface CardDetails {
	number: string;
	expMonth: number;
	expYear: number;
	cvc: string;
}

export type CardBrand = "visa" | "mastercard" | "amex" | "discover" | "unknown";

/** The digits of a card number as typed: spaces and dashes between groups are allowed. */
export function cardDigits(input: string): string | null {
	const digits = input.replace(/[\s-]/g, "");
	return /^\d{12,19}$/.test(digits) ? digits : null;
}

/** The Luhn (mod 10) check digit test. */
export function passesLuhn(digits: string): boolean {
	if (!/^\d+$/.test(digits)) return false;
	let total = 0;
	for (let i = 0; i < digits.length; i++) {
		let d = digits.charCodeAt(digits.length - 1 - i) - 48;
		if (i % 2 === 1) {
			d *= 2;
			if (d > 9) d -= 9;
		}
		total += d;
	}
	return total % 10 === 0;
}

export function cardBrand(digits: string): CardBrand {
	if (/^4/.test(digits)) return "visa";
	if (/^(5[1-5]|2(2[2-9]|[3-6]\d|7[01]|720))/.test(digits)) return "mastercard";
	if (/^3[47]/.test(digits)) return "amex";
	if (/^(6011|65|64[4-9])/.test(digits)) return "discover";
	return "unknown";
}

export function last4(digits: string): string {
	return digits.slice(-4);
}

/** A card is usable through the last day of its expiry month. */
export function isExpired(expMonth: number, expYear: number, now: Date): boolean {
	const year = now.getUTCFullYear();
	const month = now.getUTCMonth() + 1;
	return expYear < year || (expYear === year && expMonth < month);
}

export interface CardProblem {
	field: "cardNumber" | "expMonth" | "expYear" | "cvc";
	message: string;
	type: string;
}

/** What is wrong with a card, field by field (empty: nothing). */
export function cardProblems(card: CardDetails, now: Date): CardProblem[] {
	const problems: CardProblem[] = [];
	const digits = cardDigits(card.number);
	if (!digits) problems.push({ field: "cardNumber", message: "The card number must have 12 to 19 digits.", type: "cardNumber" });
	else if (!passesLuhn(digits)) problems.push({ field: "cardNumber", message: "The card number is not valid.", type: "luhn" });
	if (!Number.isInteger(card.expMonth) || card.expMonth < 1 || card.expMonth > 12)
		problems.push({ field: "expMonth", message: "The expiry month must be 1 to 12.", type: "expMonth" });
	else if (isExpired(card.expMonth, card.expYear, now)) problems.push({ field: "expYear", message: "The card has expired.", type: "expired" });
	const cvcLength = digits && cardBrand(digits) === "amex" ? 4 : 3;
	if (!new RegExp(`^\\d{${cvcLength}}$`).test(card.cvc))
		problems.push({ field: "cvc", message: `The security code must have ${cvcLength} digits.`, type: "cvc" });
	return problems;
}
