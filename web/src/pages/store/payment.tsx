/**
 * The payment step of a pending order: the card is confirmed with the provider, never in the shop.
 *  - the simulated payment service (development, tests): a "pay now" link to its server-rendered page,
 *    which leads back here (returnTo);
 *  - Stripe (`publishableKey` on the order): Stripe's Payment Element, mounted with the session's
 *    clientSecret. https://js.stripe.com/v3 is loaded only then, never for the simulated service.
 * The order page polls the order meanwhile; the webhook moves it to paid.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import type { Order } from "../../api/types";
import { Notice } from "../../components/ui";
import { t } from "../../i18n";
import { withReturnTo } from "./checkout";

const STRIPE_JS = "https://js.stripe.com/v3";

/** The few calls of Stripe.js used here. */
interface StripeJs {
	elements(opts: { clientSecret: string }): { create(kind: "payment"): { mount(el: HTMLElement): void; destroy(): void } };
	confirmPayment(opts: { elements: unknown; confirmParams: { return_url: string } }): Promise<{ error?: { message?: string } }>;
}
declare global {
	interface Window {
		Stripe?: (publishableKey: string) => StripeJs;
	}
}

let stripeScript: Promise<void> | undefined;
function loadStripeJs(): Promise<void> {
	stripeScript ??= new Promise((resolve, reject) => {
		const script = document.createElement("script");
		script.src = STRIPE_JS;
		script.onload = () => resolve();
		script.onerror = () => {
			stripeScript = undefined;
			reject(new Error("Stripe.js did not load"));
		};
		document.head.appendChild(script);
	});
	return stripeScript;
}

export function PaymentStep(props: { order: Order }) {
	const o = props.order;
	const p = o.payment;
	if (o.status !== "pending" || !p || p.status !== "requires_confirmation") return null;
	const here = `/orders/${encodeURIComponent(o.id)}`;
	return (
		<section class="payment-step" aria-labelledby="pay-step">
			<h2 id="pay-step">{t("order.payment")}</h2>
			<p>{t("order.confirmHint")}</p>
			{p.declineReason ? (
				<Notice kind="warning">
					<p class="decline-reason">{t("order.declined", { reason: p.declineReason })}</p>
				</Notice>
			) : null}
			{p.publishableKey && p.clientSecret ? (
				<StripePaymentElement
					publishableKey={p.publishableKey}
					clientSecret={p.clientSecret}
					returnUrl={new URL(here, window.location.href).toString()}
				/>
			) : p.confirmUrl ? (
				<a class="button" href={withReturnTo(p.confirmUrl, here)}>
					{t("order.payNow")}
				</a>
			) : null}
		</section>
	);
}

function StripePaymentElement(props: { publishableKey: string; clientSecret: string; returnUrl: string }) {
	const host = useRef<HTMLDivElement>(null);
	const stripe = useRef<{ js: StripeJs; elements: unknown } | null>(null);
	const [error, setError] = useState("");
	const [busy, setBusy] = useState(false);
	useEffect(() => {
		let element: { destroy(): void } | undefined;
		let gone = false;
		loadStripeJs()
			.then(() => {
				if (gone || !window.Stripe || !host.current) return;
				const js = window.Stripe(props.publishableKey);
				const elements = js.elements({ clientSecret: props.clientSecret });
				const payment = elements.create("payment");
				payment.mount(host.current);
				element = payment;
				stripe.current = { js, elements };
			})
			.catch(() => setError(t("order.stripeLoadFailed")));
		return () => {
			gone = true;
			element?.destroy();
		};
	}, [props.publishableKey, props.clientSecret]);
	const pay = async () => {
		if (!stripe.current) return;
		setBusy(true);
		// Stripe redirects back to the order page (return_url) after any authentication step.
		const result = await stripe.current.js.confirmPayment({ elements: stripe.current.elements, confirmParams: { return_url: props.returnUrl } });
		setBusy(false);
		if (result.error) setError(result.error.message ?? t("order.stripeLoadFailed"));
	};
	return (
		<form
			onSubmit={e => {
				e.preventDefault();
				void pay();
			}}
		>
			<div ref={host} />
			{error ? <Notice kind="warning">{error}</Notice> : null}
			<button type="submit" disabled={busy}>
				{t("order.stripePay")}
			</button>
		</form>
	);
}
