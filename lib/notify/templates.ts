/**
 * Email templates: Handlebars, one shared layout in HTML and in plain text, filled from the
 * content model of lib/domain/emails.ts (which already holds every sentence in the recipient's
 * language, money and dates in their locale).
 *
 * Handlebars because its `{{ }}` escapes HTML by default (a product named
 * `<img src=x onerror=alert(1)>` arrives as text), it has no code in templates, and it is the
 * engine of Vendure's EmailPlugin. The plain-text layout is compiled with `noEscape`: text/plain is
 * not interpreted, and an escaped `&lt;` there would be a lie.
 */
import Handlebars from "handlebars";
import type { EmailContent } from "../domain/emails.js";

const HTML = `<!doctype html>
<html lang="{{language}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{subject}}</title>
</head>
<body style="margin:0;padding:0;background:#f4f4f5;font-family:Arial,Helvetica,sans-serif;color:#18181b">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background:#f4f4f5"><tr><td align="center" style="padding:24px">
<table role="presentation" width="600" cellpadding="0" cellspacing="0" style="max-width:600px;background:#ffffff;border-radius:8px">
<tr><td style="padding:20px 32px;border-bottom:1px solid #e4e4e7;font-size:20px;font-weight:bold">{{footer.shopName}}</td></tr>
<tr><td style="padding:24px 32px">
<h1 style="font-size:22px;margin:0 0 16px">{{heading}}</h1>
<p style="margin:0 0 12px">{{greeting}}</p>
{{#each paragraphs}}<p style="margin:0 0 12px;line-height:1.5">{{this}}</p>
{{/each}}
{{#if order}}
{{#if order.date}}<p style="margin:0 0 12px;color:#52525b">{{order.date}}</p>{{/if}}
<table role="presentation" width="100%" cellpadding="6" cellspacing="0" style="border-collapse:collapse;margin:8px 0 16px">
<tr style="border-bottom:1px solid #e4e4e7"><th align="left">{{order.columns.item}}</th><th align="right">{{order.columns.quantity}}</th><th align="right">{{order.columns.price}}</th><th align="right">{{order.columns.total}}</th></tr>
{{#each order.lines}}<tr style="border-bottom:1px solid #f4f4f5"><td>{{name}}{{#if options}}<br><span style="color:#71717a;font-size:13px">{{options}}</span>{{/if}}</td><td align="right">{{quantity}}</td><td align="right">{{unitPrice}}</td><td align="right">{{lineTotal}}</td></tr>
{{/each}}
{{#each order.totals}}<tr><td colspan="3" align="right">{{#if strong}}<strong>{{label}}</strong>{{else}}{{label}}{{/if}}</td><td align="right">{{#if strong}}<strong>{{amount}}</strong>{{else}}{{amount}}{{/if}}</td></tr>
{{/each}}
</table>
{{/if}}
{{#if parcels}}
<h2 style="font-size:16px;margin:16px 0 8px">{{parcels.heading}}</h2>
<table role="presentation" width="100%" cellpadding="6" cellspacing="0" style="border-collapse:collapse;margin:0 0 16px">
<tr style="border-bottom:1px solid #e4e4e7"><th align="left">{{parcels.columns.carrier}}</th><th align="left">{{parcels.columns.trackingNumber}}</th><th></th></tr>
{{#each parcels.rows}}<tr style="border-bottom:1px solid #f4f4f5"><td>{{carrier}}</td><td>{{trackingNumber}}</td><td align="right">{{#if url}}<a href="{{url}}" style="color:#18181b">{{../parcels.trackLabel}}</a>{{/if}}</td></tr>
{{/each}}
</table>
{{/if}}
{{#if action}}
<p style="margin:24px 0"><a href="{{action.url}}" style="background:#18181b;color:#ffffff;padding:12px 20px;border-radius:6px;text-decoration:none;display:inline-block">{{action.label}}</a></p>
<p style="margin:0 0 12px;font-size:13px;color:#52525b">{{linkFallback}}<br><a href="{{action.url}}" style="color:#52525b;word-break:break-all">{{action.url}}</a></p>
{{/if}}
</td></tr>
<tr><td style="padding:16px 32px;border-top:1px solid #e4e4e7;font-size:12px;color:#71717a">{{footer.why}}{{#if footer.unsubscribeUrl}}<br><a href="{{footer.unsubscribeUrl}}" style="color:#71717a">{{footer.unsubscribeLabel}}</a>{{/if}}</td></tr>
</table>
</td></tr></table>
</body>
</html>
`;

const TEXT = `{{footer.shopName}}

{{heading}}

{{greeting}}

{{#each paragraphs}}{{this}}

{{/each}}{{#if order}}{{#if order.date}}{{order.date}}

{{/if}}{{#each order.lines}}{{quantity}} × {{name}}{{#if options}} ({{options}}){{/if}}  {{unitPrice}}  {{lineTotal}}
{{/each}}
{{#each order.totals}}{{label}}: {{amount}}
{{/each}}
{{/if}}{{#if parcels}}{{parcels.heading}}:
{{#each parcels.rows}}- {{carrier}} {{trackingNumber}}{{#if url}}: {{url}}{{/if}}
{{/each}}
{{/if}}{{#if action}}{{action.label}}: {{action.url}}

{{/if}}--
{{footer.why}}
{{#if footer.unsubscribeUrl}}{{footer.unsubscribeLabel}}: {{footer.unsubscribeUrl}}
{{/if}}`;

const engine = Handlebars.create();
const html = engine.compile(HTML, { strict: false });
const text = engine.compile(TEXT, { noEscape: true });

export interface RenderedEmail {
	subject: string;
	html: string;
	text: string;
}

export function renderEmail(content: EmailContent): RenderedEmail {
	// The templates are this file's; what comes from people is only ever substituted, never compiled.
	return { subject: content.subject, html: html(content), text: text(content) };
}
