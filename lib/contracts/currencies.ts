/** Active ISO 4217 currency codes (funds and precious-metal codes left out: nobody prices a product in them). */
export const CURRENCY_CODES = (
	"AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN BZD " +
	"CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF " +
	"GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP " +
	"LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB " +
	"PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL " +
	"THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VED VES VND VUV WST XAF XCD XOF XPF YER ZAR ZMW ZWG"
).split(" ");

const known = new Set(CURRENCY_CODES);
export function isCurrencyCode(code: unknown): code is string {
	return typeof code === "string" && known.has(code);
}

/** The validator rule of a currency code. */
export const currencyRule = {
	type: "enum",
	values: CURRENCY_CODES,
	messages: { enumValue: "The '{field}' field must be an ISO 4217 currency code such as 'EUR'." },
} as const;
