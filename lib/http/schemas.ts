/**
 * JSON Schemas of the contract's request bodies and resources, for the OpenAPI document.
 * Validation itself is done by each action's `params` (fastest-validator).
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
	Ticket: obj({ id: str(), userId: str(), type: str({ enum: ["inquiry", "return", "complaint", "feedback"] }), subject: str(), status: str({ enum: ["open", "pending", "resolved", "closed"] }), priority: str(), assigneeId: { type: ["string", "null"] }, orderId: { type: ["string", "null"] }, items: { type: "array", items: itemQty }, rating: { type: ["integer", "null"] }, messages: { type: "array", items: obj({ id: str(), authorId: str(), authorRole: str(), body: str(), at: str() }) }, return: {}, customer: {}, order: {}, createdAt: str(), updatedAt: str() }),
	Notification: obj({ id: str(), type: str(), title: str(), body: str(), read: { type: "boolean" }, createdAt: str(), ref: obj({ kind: str(), id: str() }) }),
	Page: obj({ rows: { type: "array", items: {} }, total: int(), page: int(), pageSize: int(), totalPages: int() }, ["rows", "total", "page", "pageSize", "totalPages"]),
};

export const REQUEST_BODIES: Record<string, Schema> = {
	"users.register": obj({ email: str({ format: "email" }), password: str({ minLength: 10, description: "10 to 72 bytes" }), name: str({ minLength: 1, maxLength: 100 }) }, ["email", "password", "name"]),
	"users.login": obj({ email: str(), password: str() }, ["email", "password"]),
	"users.refresh": obj({ refreshToken: str() }, ["refreshToken"]),
	"users.logout": obj({ refreshToken: str() }, ["refreshToken"]),
	"users.updateMe": obj({ name: str({ minLength: 1, maxLength: 100 }), preferences }),
	"users.changePassword": obj({ currentPassword: str(), newPassword: str({ minLength: 10 }) }, ["currentPassword", "newPassword"]),
	"users.update": obj({ name: str(), roles: { type: "array", items: str({ enum: ["customer", "agent", "admin"] }) }, active: { type: "boolean" } }),
	"products.create": obj({ sku: str(), name: str(), description: str(), price: int({ minimum: 0 }), currency: str({ pattern: "^[A-Z]{3}$" }), categories: { type: "array", items: str() }, stock: int({ minimum: 0 }), active: { type: "boolean" } }, ["sku", "name", "price", "currency"]),
	"products.update": obj({ sku: str(), name: str(), description: str(), price: int({ minimum: 0 }), currency: str(), categories: { type: "array", items: str() }, active: { type: "boolean" } }),
	"products.adjustInventory": obj({ delta: int(), stock: int({ minimum: 0 }) }),
	"products.createCategory": obj({ slug: str({ pattern: "^[a-z0-9-]+$" }), name: str(), parentId: { type: ["string", "null"] } }, ["slug", "name"]),
	"products.updateCategory": obj({ slug: str(), name: str(), parentId: { type: ["string", "null"] } }),
	"orders.addCartItem": itemQty,
	"orders.updateCartItem": obj({ quantity: int({ minimum: 1, maximum: 99 }) }, ["quantity"]),
	"orders.checkout": obj({ shippingAddress: ref("Address"), payment: obj({ method: str({ const: "card" }), cardNumber: str(), expMonth: int({ minimum: 1, maximum: 12 }), expYear: int(), cvc: str() }, ["method", "cardNumber", "expMonth", "expYear", "cvc"]) }, ["shippingAddress", "payment"]),
	"tickets.create": obj({ type: str({ enum: ["inquiry", "return", "complaint", "feedback"] }), subject: str(), message: str(), orderId: str(), items: { type: "array", items: itemQty }, rating: int({ minimum: 1, maximum: 5 }) }, ["type", "subject", "message"]),
	"tickets.reply": obj({ message: str() }, ["message"]),
	"tickets.update": obj({ status: str({ enum: ["open", "pending", "resolved", "closed"] }), priority: str({ enum: ["low", "normal", "high", "urgent"] }), assigneeId: { type: ["string", "null"] } }),
	"tickets.approveReturn": obj({ reason: str() }),
	"tickets.rejectReturn": obj({ reason: str() }, ["reason"]),
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
