/**
 * The simulated payment provider of development and tests: a sandbox with its state in three
 * collections of the orders database (authorizations, payments, ledger), so that any orders
 * node can capture, void or refund any order, and its idempotency keys hold across nodes and
 * restarts, as a real provider's do on its side.
 *
 *   4242 4242 4242 4242   approved
 *   4000 0000 0000 0002   declined at capture ("card_declined")
 *   4000 0000 0000 0119   capture fails with a transient provider error, every time
 *                         (a provider that never answers: the order's hold then expires)
 *   any other Luhn-valid number   approved
 *   a number failing Luhn          refused before it gets here (422 at checkout)
 *
 * The card itself is never stored: authorizing keeps a provider-side token, the brand, the last
 * 4 digits and what the sandbox will do at capture (its "behaviour", decided from the test card
 * numbers above), as a real provider keeps the card in its vault and hands out a token.
 * Authorizing never declines a Luhn-valid card: the decision is made at capture, after stock is
 * reserved, so the saga's decline path runs as it would with a real card.
 *
 * Exactly once, across nodes: every step is one compare-and-set on one sandbox document (the
 * authorization's state, the payment's refunded amount), and the answer to an idempotency key is
 * written in the same update, so a step run twice, or by two nodes at once, moves money once and
 * answers the same both times.
 */
import { randomUUID } from "node:crypto";
import { derivedId } from "../contracts/ids.js";
import { DuplicateKeyError, type Collection } from "../store/index.js";
import { subtract } from "../domain/money.js";
import { cardBrand, cardDigits, last4, passesLuhn, type CardBrand } from "./card.js";
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

type Behaviour = "approve" | "decline" | "processing_error";

export interface SandboxAuthorization {
	_id: string;
	token: string;
	brand: CardBrand;
	last4: string;
	behaviour: Behaviour;
	amount: number;
	currency: string;
	state: "authorized" | "captured" | "declined" | "voided" | "refused";
	/** Why authorizing refused (state `refused`). */
	refusal?: string;
	/** The capture (or the decline at capture) and the idempotency key it answered. */
	capture: { key: string; paymentId?: string; amount?: number; declined?: string } | null;
	createdAt: string;
}
export interface SandboxPayment {
	_id: string;
	authorizationId: string;
	captured: number;
	refunded: number;
	/** Refunds by (a hash of) their idempotency key. */
	refundKeys: Record<string, { refundId: string; amount: number }>;
}
export interface LedgerEntry {
	_id: string;
	kind: "capture" | "refund";
	/** The payment or refund id. */
	id: string;
	amount: number;
	key: string;
	at: string;
}

export interface SandboxCollections {
	authorizations: Collection<SandboxAuthorization>;
	payments: Collection<SandboxPayment>;
	ledger: Collection<LedgerEntry>;
}

/** The collections the sandbox keeps, for the orders service's db mixin. */
export const SANDBOX_COLLECTIONS = { sandbox_authorizations: {}, sandbox_payments: {}, sandbox_ledger: {} } as const;

function behaviourOf(digits: string): Behaviour {
	if (digits === TEST_CARDS.declined) return "decline";
	if (digits === TEST_CARDS.processingError) return "processing_error";
	return "approve";
}

async function insertOnce<T extends { _id: string }>(coll: Collection<T>, doc: T): Promise<void> {
	try {
		await coll.insert(doc);
	} catch (err) {
		if (!(err instanceof DuplicateKeyError)) throw err;
	}
}

export class SimulatedPaymentProvider implements PaymentProvider {
	readonly name = "simulated";

	constructor(private readonly sandbox: SandboxCollections) {}

	/** Every time money moved (captures and refunds, not replays), for tests and the operator. */
	ledger(): Promise<LedgerEntry[]> {
		return this.sandbox.ledger.find({ sort: ["at"] });
	}

	async authorize(req: AuthorizeRequest): Promise<AuthorizeResult> {
		const _id = `sim_auth_${derivedId("authorize", req.idempotencyKey)}`;
		const existing = await this.sandbox.authorizations.findById(_id);
		if (existing) return this.authorizeAnswer(existing);
		const digits = cardDigits(req.card.number) ?? "";
		const auth: SandboxAuthorization = {
			_id,
			token: `sim_tok_${randomUUID()}`,
			brand: cardBrand(digits),
			last4: last4(digits),
			behaviour: behaviourOf(digits),
			amount: req.amount,
			currency: req.currency,
			state: passesLuhn(digits) ? "authorized" : "refused",
			...(passesLuhn(digits) ? {} : { refusal: "invalid_number" }),
			capture: null,
			createdAt: new Date().toISOString(),
		};
		await insertOnce(this.sandbox.authorizations, auth);
		return this.authorizeAnswer((await this.sandbox.authorizations.findById(_id))!);
	}

	private authorizeAnswer(a: SandboxAuthorization): AuthorizeResult {
		return a.state === "refused"
			? { status: "declined", reason: a.refusal ?? "refused", brand: a.brand, last4: a.last4 }
			: { status: "authorized", authorizationId: a._id, brand: a.brand, last4: a.last4 };
	}

	async capture(req: CaptureRequest): Promise<CaptureResult> {
		let refusal: string | null = null;
		const outcome = await this.sandbox.authorizations.change(
			req.authorizationId,
			auth => {
				if (auth.capture?.key === req.idempotencyKey) return null;
				// A transient failure is not an answer: nothing is written, the caller tries again.
				if (auth.state === "authorized" && auth.behaviour === "processing_error")
					throw new PaymentProviderUnavailableError("simulated processing error");
				if (auth.state !== "authorized") refusal = `authorization_${auth.state}`;
				else if (req.amount > auth.amount || req.currency !== auth.currency) refusal = "amount_exceeds_authorization";
				if (refusal) return null;
				const capture =
					auth.behaviour === "decline"
						? { key: req.idempotencyKey, declined: "card_declined" }
						: { key: req.idempotencyKey, paymentId: `sim_pay_${derivedId("payment", auth._id)}`, amount: req.amount };
				// Another capture getting there first makes this write miss: the loop reads what it did.
				return { expect: { state: "authorized" }, update: { $set: { state: capture.declined ? "declined" : "captured", capture } } };
			},
			{ contended: () => new PaymentProviderUnavailableError("the authorization kept changing") },
		);
		if (!outcome.doc) return { status: "declined", reason: "authorization_not_found" };
		if (refusal) return { status: "declined", reason: refusal };
		return this.captureAnswer(outcome.doc);
	}

	/** The answer of a recorded capture; a captured one also makes sure its payment and ledger entry exist (a crash may have come between). */
	private async captureAnswer(auth: SandboxAuthorization): Promise<CaptureResult> {
		const c = auth.capture!;
		if (c.declined || !c.paymentId) return { status: "declined", reason: c.declined ?? "declined" };
		await insertOnce(this.sandbox.payments, { _id: c.paymentId, authorizationId: auth._id, captured: c.amount!, refunded: 0, refundKeys: {} });
		await insertOnce(this.sandbox.ledger, {
			_id: derivedId("capture", c.paymentId),
			kind: "capture",
			id: c.paymentId,
			amount: c.amount!,
			key: c.key,
			at: new Date().toISOString(),
		});
		return { status: "captured", paymentId: c.paymentId, amount: c.amount! };
	}

	async refund(req: RefundRequest): Promise<RefundResult> {
		const slot = derivedId("refund-key", req.idempotencyKey);
		let answer: RefundResult | null = null;
		const refundId = `sim_re_${derivedId("refund", req.paymentId, req.idempotencyKey)}`;
		const outcome = await this.sandbox.payments.change(
			req.paymentId,
			payment => {
				const done = Object.hasOwn(payment.refundKeys, slot) ? payment.refundKeys[slot] : undefined;
				if (done) answer = { status: "refunded", refundId: done.refundId, amount: done.amount };
				else if (!Number.isSafeInteger(req.amount) || req.amount <= 0) answer = { status: "failed", reason: "invalid_amount" };
				// A refund beyond what is left is refused and not remembered: the caller may ask again for less.
				else if (req.amount > subtract(payment.captured, payment.refunded)) answer = { status: "failed", reason: "exceeds_captured" };
				if (answer) return null;
				// Another refund of this payment (this key, or another) coming in between makes this write miss: read again.
				return {
					expect: { refunded: payment.refunded, [`refundKeys.${slot}`]: { $exists: false } },
					update: { $inc: { refunded: req.amount }, $set: { [`refundKeys.${slot}`]: { refundId, amount: req.amount } } },
				};
			},
			{ attempts: 20, contended: () => new PaymentProviderUnavailableError("the payment kept changing") },
		);
		if (!outcome.doc) return { status: "failed", reason: "payment_not_found" };
		if (answer) return answer;
		await insertOnce(this.sandbox.ledger, {
			_id: derivedId("refund", refundId),
			kind: "refund",
			id: refundId,
			amount: req.amount,
			key: req.idempotencyKey,
			at: new Date().toISOString(),
		});
		return { status: "refunded", refundId, amount: req.amount };
	}

	async void(req: VoidRequest): Promise<VoidResult> {
		const outcome = await this.sandbox.authorizations.change(
			req.authorizationId,
			auth => (auth.state === "authorized" ? { expect: { state: "authorized" }, update: { $set: { state: "voided" } } } : null),
			{ contended: () => new PaymentProviderUnavailableError("the authorization kept changing") },
		);
		// Nothing held any more (voided, declined, refused, or never there): voided as far as the caller is concerned.
		if (outcome.doc?.state === "captured") return { status: "failed", reason: "already_captured" };
		return { status: "voided" };
	}
}
