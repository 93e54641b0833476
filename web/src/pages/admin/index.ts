export { AdminHome } from "./home";
export { AdminProducts, AdminProductEdit } from "./products";
export { AdminCategories } from "./categories";
export { AdminPromotions } from "./promotions";
export { AdminShipping } from "./shipping";
export { AdminTax } from "./tax";
export { AdminOrder, AdminOrders } from "./orders";
export { AdminTicket, AdminTickets } from "./support";
export { AdminUser, AdminUsers } from "./users";
