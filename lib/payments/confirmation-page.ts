/**
 * The simulated provider's confirmation page: a plain HTML form (no script) that posts the card
 * to the simulated service, as a real provider's hosted page would. Development and tests only.
 */
import { TEST_CARDS } from "./simulated.js";

const escape = (s: string) => s.replace(/[&<>"']/g, c => `&#${c.charCodeAt(0)};`);

function page(title: string, body: string): string {
	return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:28rem;margin:2rem auto;padding:0 1rem}label{display:block;margin:.6rem 0}input{display:block;width:100%;padding:.4rem;font-size:1rem}button{margin-top:1rem;padding:.5rem 1rem;font-size:1rem}.note{color:#555;font-size:.9rem}</style>
</head><body>${body}</body></html>`;
}

export function confirmationPage(s: {
	sessionId: string;
	clientSecret: string;
	amount: string;
	status: string;
	declineReason: string | null;
	error?: string;
}): string {
	if (s.status !== "requires_confirmation")
		return page(
			"Payment",
			`<h1>Payment ${escape(s.status === "authorized" || s.status === "captured" ? "authorized" : s.status)}</h1><p>You may close this page and return to the shop.</p>`,
		);
	const notice = s.error ?? (s.declineReason ? `The card was declined (${s.declineReason}). Try another card.` : "");
	return page(
		"Confirm your payment",
		`<h1>Confirm your payment</h1>
<p>Amount: <strong>${escape(s.amount)}</strong></p>
${notice ? `<p role="alert">${escape(notice)}</p>` : ""}
<form method="post" action="${escape(s.sessionId)}">
<input type="hidden" name="client_secret" value="${escape(s.clientSecret)}">
<label>Card number<input name="cardNumber" inputmode="numeric" autocomplete="cc-number" required></label>
<label>Expiry month<input name="expMonth" inputmode="numeric" autocomplete="cc-exp-month" required></label>
<label>Expiry year<input name="expYear" inputmode="numeric" autocomplete="cc-exp-year" required></label>
<label>Security code<input name="cvc" inputmode="numeric" autocomplete="cc-csc" required></label>
<button type="submit">Pay</button>
</form>
<p class="note">Simulated provider. Test cards: ${TEST_CARDS.approved} approved, ${TEST_CARDS.declined} declined.</p>`,
	);
}
