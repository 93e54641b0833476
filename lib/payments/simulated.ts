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
		for (let attempt = 0; attempt < 5; attempt++) {
			const auth = await this.sandbox.authorizations.findById(req.authorizationId);
			if (!auth) return { status: "declined", reason: "authorization_not_found" };
			if (auth.capture?.key === req.idempotencyKey) return this.captureAnswer(auth);
			// A transient failure is not an answer: nothing is written, the caller tries again.
			if (auth.state === "authorized" && auth.behaviour === "processing_error") throw new PaymentProviderUnavailableError("simulated processing error");
			if (auth.state !== "authorized") return { status: "declined", reason: `authorization_${auth.state}` };
			if (req.amount > auth.amount || req.currency !== auth.currency) return { status: "declined", reason: "amount_exceeds_authorization" };
			const capture =
				auth.behaviour === "decline"
					? { key: req.idempotencyKey, declined: "card_declined" }
					: { key: req.idempotencyKey, paymentId: `sim_pay_${derivedId("payment", auth._id)}`, amount: req.amount };
			const won = await this.sandbox.authorizations.updateWhere(
				{ _id: auth._id, state: "authorized" },
				{ $set: { state: capture.declined ? "declined" : "captured", capture } },
			);
			if (won === 1) return this.captureAnswer({ ...auth, state: capture.declined ? "declined" : "captured", capture });
			// Another capture got there first: read what it did.
		}
		throw new PaymentProviderUnavailableError("the authorization kept changing");
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
		for (let attempt = 0; attempt < 20; attempt++) {
			const payment = await this.sandbox.payments.findById(req.paymentId);
			if (!payment) return { status: "failed", reason: "payment_not_found" };
			const done = Object.hasOwn(payment.refundKeys, slot) ? payment.refundKeys[slot] : undefined;
			if (done) return { status: "refunded", refundId: done.refundId, amount: done.amount };
			if (!Number.isSafeInteger(req.amount) || req.amount <= 0) return { status: "failed", reason: "invalid_amount" };
			// A refund beyond what is left is refused and not remembered: the caller may ask again for less.
			if (req.amount > subtract(payment.captured, payment.refunded)) return { status: "failed", reason: "exceeds_captured" };
			const refundId = `sim_re_${derivedId("refund", payment._id, req.idempotencyKey)}`;
			const won = await this.sandbox.payments.updateWhere(
				{ _id: payment._id, refunded: payment.refunded, [`refundKeys.${slot}`]: { $exists: false } },
				{ $inc: { refunded: req.amount }, $set: { [`refundKeys.${slot}`]: { refundId, amount: req.amount } } },
			);
			if (won === 1) {
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
			// Another refund of this payment (this key, or another) came in between: read again.
		}
		throw new PaymentProviderUnavailableError("the payment kept changing");
	}

	async void(req: VoidRequest): Promise<VoidResult> {
		for (let attempt = 0; attempt < 5; attempt++) {
			const auth = await this.sandbox.authorizations.findById(req.authorizationId);
			if (!auth || auth.state === "voided" || auth.state === "declined" || auth.state === "refused") return { status: "voided" }; // nothing held any more
			if (auth.state === "captured") return { status: "failed", reason: "already_captured" };
			if ((await this.sandbox.authorizations.updateWhere({ _id: auth._id, state: "authorized" }, { $set: { state: "voided" } })) === 1)
				return { status: "voided" };
		}
		throw new PaymentProviderUnavailableError("the authorization kept changing");
	}
}
