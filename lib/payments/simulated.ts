/**
 * The simulated payment provider of development and tests. It keeps everything in this
 * process's memory, like a provider's sandbox would keep it on its side:
 *
 *   4242 4242 4242 4242   approved
 *   4000 0000 0000 0002   declined at capture ("card_declined")
 *   4000 0000 0000 0119   capture fails with a transient provider error, every time
 *                         (a provider that never answers: the order's hold then expires)
 *   any other Luhn-valid number   approved
 *   a number failing Luhn          refused before it gets here (422 at checkout)
 *
 * Authorizing never declines: the decision is made at capture, after stock is reserved, so the
 * saga's decline path runs as it would with a real card. The card is held only inside the
 * in-memory authorization until it is captured or voided. If the process stops between
 * authorization and capture, the authorization is gone and the capture is declined
 * ("authorization_not_found"): the order is cancelled `payment_declined`.
 * A refund of a payment this process has not seen (captured before a restart) is accepted
 * for the amount asked: the orders service has already capped it at what is left to refund.
 */
import { randomUUID } from "node:crypto";
import { subtract } from "../domain/money.js";
import { cardBrand, cardDigits, last4, passesLuhn, type CardDetails } from "./card.js";
import {
	PaymentProviderUnavailableError,
	type AuthorizeRequest,
	type AuthorizeResult,
	type CaptureRequest,
	type CaptureResult,
	type PaymentProvider,
	type RefundRequest,
	type RefundResult,
	type VoidRequest,
	type VoidResult,
} from "./provider.js";

export const TEST_CARDS = {
	approved: "4242424242424242",
	declined: "4000000000000002",
	processingError: "4000000000000119",
} as const;

interface Authorization {
	id: string;
	amount: number;
	currency: string;
	state: "authorized" | "captured" | "declined" | "voided";
	/** The card, only until the authorization is settled; never serialized. */
	card: CardDetails | null;
}
interface Payment {
	id: string;
	captured: number;
	refunded: number;
}

export class SimulatedPaymentProvider implements PaymentProvider {
	readonly name = "simulated";
	private readonly authorizations = new Map<string, Authorization>();
	private readonly payments = new Map<string, Payment>();
	/** Answers already given, by idempotency key (per operation). */
	private readonly answers = new Map<string, unknown>();

	/** How many times money actually moved, for tests: captures and refunds done (not replays). */
	readonly ledger: { kind: "capture" | "refund"; id: string; amount: number; key: string }[] = [];

	private remembered<T>(op: string, key: string, make: () => T): T {
		const k = `${op}:${key}`;
		if (this.answers.has(k)) return this.answers.get(k) as T;
		const answer = make();
		this.answers.set(k, answer);
		return answer;
	}

	async authorize(req: AuthorizeRequest): Promise<AuthorizeResult> {
		return this.remembered("authorize", req.idempotencyKey, (): AuthorizeResult => {
			const digits = cardDigits(req.card.number) ?? "";
			const brand = cardBrand(digits);
			if (!passesLuhn(digits)) return { status: "declined", reason: "invalid_number", brand, last4: last4(digits) };
			const auth: Authorization = { id: `sim_auth_${randomUUID()}`, amount: req.amount, currency: req.currency, state: "authorized", card: { ...req.card, number: digits } };
			this.authorizations.set(auth.id, auth);
			return { status: "authorized", authorizationId: auth.id, brand, last4: last4(digits) };
		});
	}

	async capture(req: CaptureRequest): Promise<CaptureResult> {
		const auth = this.authorizations.get(req.authorizationId);
		// A transient failure is not an answer: it is not remembered, the caller tries again.
		if (auth?.state === "authorized" && auth.card?.number === TEST_CARDS.processingError) throw new PaymentProviderUnavailableError("simulated processing error");
		return this.remembered("capture", req.idempotencyKey, (): CaptureResult => {
			if (!auth) return { status: "declined", reason: "authorization_not_found" };
			if (auth.state === "voided") return { status: "declined", reason: "authorization_voided" };
			if (auth.state !== "authorized") return { status: "declined", reason: `authorization_${auth.state}` };
			if (req.amount > auth.amount || req.currency !== auth.currency) return { status: "declined", reason: "amount_exceeds_authorization" };
			const number = auth.card?.number;
			auth.card = null;
			if (number === TEST_CARDS.declined) {
				auth.state = "declined";
				return { status: "declined", reason: "card_declined" };
			}
			auth.state = "captured";
			const payment: Payment = { id: `sim_pay_${randomUUID()}`, captured: req.amount, refunded: 0 };
			this.payments.set(payment.id, payment);
			this.ledger.push({ kind: "capture", id: payment.id, amount: req.amount, key: req.idempotencyKey });
			return { status: "captured", paymentId: payment.id, amount: req.amount };
		});
	}

	async refund(req: RefundRequest): Promise<RefundResult> {
		const k = `refund:${req.idempotencyKey}`;
		if (this.answers.has(k)) return this.answers.get(k) as RefundResult;
		if (!Number.isSafeInteger(req.amount) || req.amount <= 0) return { status: "failed", reason: "invalid_amount" };
		if (!req.paymentId.startsWith("sim_pay_")) return { status: "failed", reason: "payment_not_found" };
		const payment = this.payments.get(req.paymentId);
		if (payment) {
			// A refund beyond what is left is refused and not remembered: the caller may ask again for less.
			if (req.amount > subtract(payment.captured, payment.refunded)) return { status: "failed", reason: "exceeds_captured" };
			payment.refunded += req.amount;
		}
		const answer: RefundResult = { status: "refunded", refundId: `sim_re_${randomUUID()}`, amount: req.amount };
		this.answers.set(k, answer);
		this.ledger.push({ kind: "refund", id: answer.refundId, amount: req.amount, key: req.idempotencyKey });
		return answer;
	}

	async void(req: VoidRequest): Promise<VoidResult> {
		return this.remembered("void", req.idempotencyKey, (): VoidResult => {
			const auth = this.authorizations.get(req.authorizationId);
			if (!auth) return { status: "voided" }; // nothing held here any more
			if (auth.state === "captured") return { status: "failed", reason: "already_captured" };
			auth.state = auth.state === "declined" ? "declined" : "voided";
			auth.card = null;
			return { status: "voided" };
		});
	}
}
