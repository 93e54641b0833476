/**
 * Request shapes of the reporting routes (reports service). Dates are the shop's local calendar
 * dates (SHOP_TIMEZONE); whether a date is real, `from` ≤ `to` and the range's length are the
 * domain's rules (lib/domain/reports.ts), which answer 422 naming the field.
 */
import { LOCAL_DATE_PATTERN, REPORT_INTERVALS } from "../../domain/reports.js";
import { currencyRule } from "../currencies.js";
import { optional, type ParamsSchema } from "../params.js";

const date = (what: string) =>
	({ type: "string", pattern: LOCAL_DATE_PATTERN, max: 10, optional: true, description: `${what}, YYYY-MM-DD in the shop's time zone` }) as const;

const range = {
	from: date("First day (default: 29 days before `to`)"),
	to: date("Last day, included (default: today)"),
	currency: optional({ ...currencyRule, description: "Sales in this currency (default: EUR)" }),
} as const;

export const REPORTS = {
	"reports.sales": {
		...range,
		interval: { type: "enum", values: REPORT_INTERVALS, optional: true, default: "day", description: "Bucket size" },
	},
	"reports.topProducts": { ...range },
	"reports.overview": {},
	"reports.backfill": {
		$$strict: true,
		reset: { type: "boolean", optional: true, description: "Forget the read model first (a rebuild)" },
	},
} as const satisfies Record<string, ParamsSchema>;
