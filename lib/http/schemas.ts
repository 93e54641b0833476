/**
 * JSON Schemas of the contract's resources (what the API answers), for the OpenAPI document.
 * Request schemas are generated from the actions' own validator schemas (lib/contracts/http).
 */
type Schema = Record<string, unknown>;

const str = (extra: Schema = {}): Schema => ({ type: "string", ...extra });
const int = (extra: Schema = {}): Schema => ({ type: "integer", ...extra });
const obj = (properties: Record<string, Schema>, required: string[] = []): Schema => ({ type: "object", properties, required, additionalProperties: false });
const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const itemQty = obj({ productId: str(), quantity: int({ minimum: 1 }) }, ["productId", "quantity"]);

export const preferences = obj({
	language: str({ examples: ["en"] }),
	currency: str({ pattern: "^[A-Z]{3}$" }),
	notifications: obj({ email: { type: "boolean" }, inApp: { type: "boolean" } }),
});

export const RESOURCES: Record<string, Schema> = {
	Error: obj({ name: str(), message: str(), code: int(), type: str(), data: {} }, ["name", "message", "code", "type"]),
	User: obj({ id: str(), email: str({ format: "email" }), name: str(), roles: { type: "array", items: str({ enum: ["customer", "agent", "admin"] }) }, active: { type: "boolean" }, preferences, createdAt: str({ format: "date-time" }), updatedAt: str({ format: "date-time" }) }, ["id", "email", "name", "roles", "preferences", "createdAt"]),
	Registration: obj({ user: ref("User") }, ["user"]),
	TokenPair: obj({ accessToken: str(), refreshToken: str(), tokenType: str({ const: "Bearer" }), expiresIn: int(), user: ref("User") }, ["accessToken", "refreshToken", "tokenType", "expiresIn"]),
	Product: obj({ id: str(), sku: str(), name: str(), description: str(), price: int({ minimum: 0 }), currency: str(), categories: { type: "array", items: str() }, stock: int(), available: int(), active: { type: "boolean" }, createdAt: str(), updatedAt: str() }),
	Category: obj({ id: str(), slug: str(), name: str(), parentId: { type: ["string", "null"] }, children: { type: "array", items: ref("Category") } }),
	CategoryTree: { type: "array", items: ref("Category") },
	Cart: obj({ items: { type: "array", items: obj({ productId: str(), name: str(), unitPrice: int(), quantity: int(), lineTotal: int() }) }, subtotal: int(), currency: str() }),
	Order: obj({ id: str(), userId: str(), status: str({ enum: ["pending", "paid", "shipped", "delivered", "cancelled", "refunded"] }), items: { type: "array", items: obj({ productId: str(), sku: str(), name: str(), unitPrice: int(), quantity: int(), lineTotal: int() }) }, subtotal: int(), total: int(), currency: str(), shippingAddress: ref("Address"), payment: obj({ brand: str(), last4: str(), status: str() }), refunds: { type: "array", items: obj({ id: str(), amount: int(), reason: str(), at: str() }) }, statusHistory: { type: "array", items: obj({ status: str(), at: str(), reason: str() }) }, createdAt: str(), updatedAt: str() }),
	Address: obj({ name: str(), line1: str(), line2: str(), city: str(), region: str(), postalCode: str(), country: str({ pattern: "^[A-Z]{2}$" }) }, ["name", "line1", "city", "postalCode", "country"]),
	Ticket: obj({ id: str(), userId: str(), type: str({ enum: ["inquiry", "return", "complaint", "feedback"] }), subject: str(), status: str({ enum: ["open", "pending", "resolved", "closed"] }), priority: str(), assigneeId: { type: ["string", "null"] }, orderId: { type: ["string", "null"] }, items: { type: "array", items: itemQty }, rating: { type: ["integer", "null"] }, messages: { type: "array", items: ref("TicketMessage") }, messagesTotal: int(), olderMessages: { type: ["string", "null"] }, return: {}, customer: {}, order: {}, createdAt: str(), updatedAt: str() }),
	TicketMessage: obj({ id: str(), authorId: str(), authorRole: str({ enum: ["customer", "agent", "admin"] }), body: str(), at: str() }, ["id", "authorId", "authorRole", "body", "at"]),
	Readiness: obj({ status: str({ enum: ["ready", "not ready"] }), failing: { type: "array", items: str() } }, ["status", "failing"]),
	Notification: obj({ id: str(), type: str(), title: str(), body: str(), read: { type: "boolean" }, createdAt: str(), ref: obj({ kind: str(), id: str() }) }),
	Page: obj({ rows: { type: "array", items: {} }, total: int(), page: int(), pageSize: int(), totalPages: int() }, ["rows", "total", "page", "pageSize", "totalPages"]),
};

export const RESPONSES: Record<string, string> = {
	"users.register": "Registration",
	"users.login": "TokenPair",
	"users.refresh": "TokenPair",
	"users.me": "User",
	"users.updateMe": "User",
	"users.list": "Page",
	"users.get": "User",
	"users.update": "User",
	"products.search": "Page",
	"products.get": "Product",
	"products.create": "Product",
	"products.update": "Product",
	"products.adjustInventory": "Product",
	"products.categoryTree": "CategoryTree",
	"products.createCategory": "Category",
	"products.updateCategory": "Category",
	"orders.getCart": "Cart",
	"orders.addCartItem": "Cart",
	"orders.updateCartItem": "Cart",
	"orders.removeCartItem": "Cart",
	"orders.clearCart": "Cart",
	"orders.checkout": "Order",
	"orders.list": "Page",
	"orders.get": "Order",
	"orders.cancel": "Order",
	"orders.ship": "Order",
	"orders.deliver": "Order",
	"tickets.create": "Ticket",
	"tickets.list": "Page",
	"tickets.get": "Ticket",
	"tickets.reply": "Ticket",
	"tickets.update": "Ticket",
	"tickets.approveReturn": "Ticket",
	"tickets.rejectReturn": "Ticket",
	"notifications.list": "Page",
};
