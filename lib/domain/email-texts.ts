/**
 * What emails say beyond the notification texts (notification-texts.ts gives each event's title
 * and sentence): account emails, the order table's labels, the layout's footer. One catalog per
 * language, complete by type, picked like the notification texts (`languageOf`).
 */
import type { Language } from "./notification-texts.js";

export interface EmailTexts {
	greeting(name: string): string;
	verifySubject(shop: string): string;
	verifyBody: string;
	verifyAction: string;
	verifyExpiry: string;
	resetSubject(shop: string): string;
	resetBody: string;
	resetAction: string;
	resetExpiry: string;
	resetIgnore: string;
	placedTitle: string;
	placedBody(order: string): string;
	orderAction: string;
	ticketAction: string;
	orderedOn(date: string): string;
	columns: { item: string; quantity: string; price: string; total: string };
	subtotal: string;
	discount(code: string | null): string;
	shipping(method: string | null): string;
	tax: string;
	taxIncluded: string;
	total: string;
	parcelsHeading(count: number): string;
	parcelColumns: { carrier: string; trackingNumber: string };
	/** The carrier's name for its code (`dhl` → "DHL"); `other` or none: a word for "carrier". */
	carrierName(code: string | null): string;
	trackAction: string;
	linkFallback: string;
	footerWhy(shop: string): string;
	unsubscribe: string;
}

/** Brand names read the same in every language. */
const CARRIER_NAMES: Record<string, string> = { dhl: "DHL", ups: "UPS", fedex: "FedEx", gls: "GLS", correos: "Correos" };

const en: EmailTexts = {
	greeting: name => `Hello ${name},`,
	verifySubject: shop => `Confirm your email address for ${shop}`,
	verifyBody: "Welcome! Please confirm that this is your email address, so we can send you your orders and can help you back into your account.",
	verifyAction: "Confirm my email address",
	verifyExpiry: "The link is valid for 24 hours.",
	resetSubject: shop => `Reset your ${shop} password`,
	resetBody: "Someone (we hope you) asked to reset the password of your account. Choose a new password with the link below.",
	resetAction: "Choose a new password",
	resetExpiry: "The link is valid for 30 minutes and can be used once.",
	resetIgnore: "If you did not ask for this, ignore this email: your password stays as it is.",
	placedTitle: "Order received",
	placedBody: order => `Thank you! We received your order ${order} and are waiting for the payment.`,
	orderAction: "View your order",
	ticketAction: "View your ticket",
	orderedOn: date => `Ordered on ${date}`,
	columns: { item: "Item", quantity: "Qty", price: "Price", total: "Total" },
	subtotal: "Subtotal",
	discount: code => (code ? `Discount (${code})` : "Discount"),
	shipping: method => (method ? `Shipping (${method})` : "Shipping"),
	tax: "Tax",
	taxIncluded: "Tax (included)",
	total: "Total",
	parcelsHeading: count => (count === 1 ? "Your parcel" : `Your ${count} parcels`),
	parcelColumns: { carrier: "Carrier", trackingNumber: "Tracking number" },
	carrierName: code => CARRIER_NAMES[code ?? ""] ?? "Other carrier",
	trackAction: "Track parcel",
	linkFallback: "If the button does not work, copy this address into your browser:",
	footerWhy: shop => `You receive this email because you have an account at ${shop}.`,
	unsubscribe: "Unsubscribe from these emails",
};

const es: EmailTexts = {
	greeting: name => `Hola, ${name}:`,
	verifySubject: shop => `Confirma tu dirección de correo en ${shop}`,
	verifyBody: "¡Bienvenido! Confirma que esta es tu dirección de correo, para que podamos enviarte tus pedidos y ayudarte a recuperar tu cuenta.",
	verifyAction: "Confirmar mi dirección de correo",
	verifyExpiry: "El enlace es válido durante 24 horas.",
	resetSubject: shop => `Restablece tu contraseña de ${shop}`,
	resetBody: "Alguien (esperamos que tú) ha pedido restablecer la contraseña de tu cuenta. Elige una contraseña nueva con el enlace de abajo.",
	resetAction: "Elegir una contraseña nueva",
	resetExpiry: "El enlace es válido durante 30 minutos y se puede usar una sola vez.",
	resetIgnore: "Si no lo has pedido tú, ignora este correo: tu contraseña no cambia.",
	placedTitle: "Pedido recibido",
	placedBody: order => `¡Gracias! Hemos recibido tu pedido ${order} y estamos esperando el pago.`,
	orderAction: "Ver tu pedido",
	ticketAction: "Ver tu ticket",
	orderedOn: date => `Pedido realizado el ${date}`,
	columns: { item: "Artículo", quantity: "Cant.", price: "Precio", total: "Total" },
	subtotal: "Subtotal",
	discount: code => (code ? `Descuento (${code})` : "Descuento"),
	shipping: method => (method ? `Envío (${method})` : "Envío"),
	tax: "Impuestos",
	taxIncluded: "Impuestos (incluidos)",
	total: "Total",
	parcelsHeading: count => (count === 1 ? "Tu paquete" : `Tus ${count} paquetes`),
	parcelColumns: { carrier: "Transportista", trackingNumber: "Número de seguimiento" },
	carrierName: code => CARRIER_NAMES[code ?? ""] ?? "Otro transportista",
	trackAction: "Seguir el paquete",
	linkFallback: "Si el botón no funciona, copia esta dirección en tu navegador:",
	footerWhy: shop => `Recibes este correo porque tienes una cuenta en ${shop}.`,
	unsubscribe: "Darse de baja de estos correos",
};

export const EMAIL_TEXTS: Record<Language, EmailTexts> = { en, es };
