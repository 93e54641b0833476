/** Request shapes of the identity routes (users service). See lib/contracts/params.ts. */
import { ROLES } from "../../auth/access.js";
import { pageParams } from "../../paging.js";
import { idRule } from "../ids.js";
import { currencyRule } from "../currencies.js";
import { patchOf, text, type ParamsSchema } from "../params.js";
import { shippingAddressRule } from "./orders.js";

/** An entry of the address book: a shipping address with an optional label and default flag. */
const addressFields = { ...shippingAddressRule.props, label: { ...text(50), optional: true }, isDefault: { type: "boolean", optional: true } } as const;

/** Printable ASCII only, one @, a dot in the domain: what the shop can send mail to. */
export const EMAIL_PATTERN = /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9-]{1,63}(\.[A-Za-z0-9-]{1,63})+$/;

const email = { type: "string", max: 254, pattern: EMAIL_PATTERN, messages: { stringPattern: "The email address is not valid." } } as const;
/**
 * A new password: at least 10 characters, at most 72 bytes of UTF-8, and not one of the most
 * common passwords (the bytes and the list are checked by the users service, lib/auth/passwords.ts).
 * The minimum is stated in characters, so that every password the document allows (10 code
 * points) is long enough for the validator (10 UTF-16 units) and the users service (10 bytes).
 */
const newPassword = {
	type: "string",
	min: 10,
	max: 72,
	description: "At least 10 characters, at most 72 bytes of UTF-8, not blank, not one of the most common passwords",
} as const;
/** A password being checked: anything longer than bcrypt reads can never be right. */
const givenPassword = { type: "string", min: 1, max: 72, description: "At most 72 bytes of UTF-8" } as const;
/** A token from a link in an email (reset, verification, unsubscribe). */
const emailToken = { type: "string", min: 1, max: 200, description: "The token of the link in the email" } as const;
const refreshToken = { type: "string", min: 10, max: 200 } as const;
const name = text(100);
const preferences = {
	type: "object",
	strict: true,
	props: {
		language: {
			type: "string",
			optional: true,
			pattern: /^[a-z]{2}(-[A-Z]{2})?$/,
			messages: { stringPattern: "The '{field}' field must be a language tag such as 'en' or 'es-ES'." },
		},
		currency: { ...currencyRule, optional: true },
		notifications: {
			type: "object",
			optional: true,
			strict: true,
			props: { email: { type: "boolean", optional: true }, inApp: { type: "boolean", optional: true } },
		},
	},
} as const;

export const IDENTITY = {
	/** `preferences` (optional): e.g. the language the shop was read in, so the welcome email is in it. */
	"users.register": { $$strict: true, email, password: newPassword, name, preferences: { ...preferences, optional: true } },
	"users.login": { $$strict: true, email: { type: "string", min: 1, max: 320 }, password: givenPassword },
	"users.refresh": { $$strict: true, refreshToken },
	"users.logout": { $$strict: true, refreshToken },
	"users.jwks": {},
	"users.me": {},
	"users.updateMe": { $$strict: true, ...patchOf({ name, preferences }) },
	"users.changePassword": { $$strict: true, currentPassword: givenPassword, newPassword },
	"users.list": {
		...pageParams,
		q: { type: "string", optional: true, min: 1, max: 100, description: "Part of the email address" },
		role: { type: "enum", values: ROLES, optional: true },
	},
	"users.get": { id: idRule },
	"users.update": {
		$$strict: true,
		id: idRule,
		...patchOf({ name, roles: { type: "array", min: 1, unique: true, items: { type: "enum", values: ROLES } }, active: { type: "boolean" } }),
	},
	"users.remove": { id: idRule },
	"users.requestPasswordReset": { $$strict: true, email: { type: "string", min: 1, max: 320 } },
	"users.confirmPasswordReset": { $$strict: true, token: emailToken, newPassword },
	"users.verifyEmail": { $$strict: true, token: emailToken },
	"users.resendVerification": {},
	"users.exportMe": {},
	"users.eraseMe": { $$strict: true, password: givenPassword },
	"users.listAddresses": {},
	"users.addAddress": { $$strict: true, ...addressFields },
	"users.updateAddress": { $$strict: true, id: idRule, ...patchOf(addressFields) },
	"users.removeAddress": { id: idRule },
	"users.unsubscribe": { token: { ...emailToken, max: 400 } },
} as const satisfies Record<string, ParamsSchema>;
