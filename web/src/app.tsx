import type { ComponentChildren, FunctionComponent } from "preact";
import { useEffect, useState } from "preact/hooks";
import { cartCount, isAdmin, isStaff, refreshBadges, signOut, unreadCount } from "./api/account";
import { session } from "./api/session";
import { LANGUAGES, language, setLanguage, t, useLanguage, type MessageKey } from "./i18n";
import { location, matchPath } from "./lib/router";
import { useStore } from "./lib/store";
import { Loading, Page } from "./components/ui";
import { Home } from "./pages/store/home";
import { Search } from "./pages/store/search";
import { ProductPage } from "./pages/store/product";
import { CartPage } from "./pages/store/cart";
import { Checkout } from "./pages/store/checkout";
import { OrderList, OrderPage } from "./pages/store/orders";
import { AuthCallback, Login, Register } from "./pages/store/auth";
import { ForgotPassword, ResetPassword, Unsubscribe, VerifyBanner, VerifyEmail } from "./pages/store/account-email";
import { Account } from "./pages/store/account";
import { Notifications } from "./pages/store/notifications";
import { NewTicket, TicketList, TicketPage } from "./pages/store/support";

type Params = Record<string, string>;
type PageComponent = FunctionComponent<{ params: Params }>;

/** The back office is its own chunk: customers never download it. */
const admin = () => import("./pages/admin/index");
function lazyPage(pick: (m: Awaited<ReturnType<typeof admin>>) => PageComponent): PageComponent {
	let loaded: PageComponent | null = null;
	let loading: Promise<void> | null = null;
	return function LazyPage(props) {
		const [, setReady] = useState(false);
		useEffect(() => {
			if (loaded) return;
			let live = true;
			loading ??= admin().then(m => void (loaded = pick(m)));
			loading.then(() => live && setReady(true));
			return () => void (live = false);
		}, []);
		if (!loaded) return <Loading />;
		const P = loaded;
		return <P {...props} />;
	};
}
const AdminHome = lazyPage(m => m.AdminHome);
const AdminProducts = lazyPage(m => m.AdminProducts);
const AdminProductEdit = lazyPage(m => m.AdminProductEdit);
const AdminCatalogImport = lazyPage(m => m.AdminCatalogImport);
const AdminCategories = lazyPage(m => m.AdminCategories);
const AdminPromotions = lazyPage(m => m.AdminPromotions);
const AdminShipping = lazyPage(m => m.AdminShipping);
const AdminTax = lazyPage(m => m.AdminTax);
const AdminOrders = lazyPage(m => m.AdminOrders);
const AdminOrder = lazyPage(m => m.AdminOrder);
const AdminTickets = lazyPage(m => m.AdminTickets);
const AdminTicket = lazyPage(m => m.AdminTicket);
const AdminUsers = lazyPage(m => m.AdminUsers);
const AdminUser = lazyPage(m => m.AdminUser);
const AdminOAuthClients = lazyPage(m => m.AdminOAuthClients);
const AdminMailbox = lazyPage(m => m.AdminMailbox);
const AdminMail = lazyPage(m => m.AdminMail);
const AdminWebhooks = lazyPage(m => m.AdminWebhooks);
const AdminWebhook = lazyPage(m => m.AdminWebhook);

type Access = "anyone" | "signedIn" | "staff" | "admin";
interface Route {
	path: string;
	page: PageComponent;
	access: Access;
}

const ROUTES: Route[] = [
	{ path: "/", page: Home, access: "anyone" },
	{ path: "/search", page: Search, access: "anyone" },
	{ path: "/products/:id", page: ProductPage, access: "anyone" },
	{ path: "/login", page: Login, access: "anyone" },
	{ path: "/register", page: Register, access: "anyone" },
	{ path: "/auth/callback", page: AuthCallback, access: "anyone" },
	{ path: "/forgot-password", page: ForgotPassword, access: "anyone" },
	{ path: "/reset-password", page: ResetPassword, access: "anyone" },
	{ path: "/verify-email", page: VerifyEmail, access: "anyone" },
	{ path: "/unsubscribe", page: Unsubscribe, access: "anyone" },
	{ path: "/cart", page: CartPage, access: "signedIn" },
	{ path: "/checkout", page: Checkout, access: "signedIn" },
	{ path: "/orders", page: OrderList, access: "signedIn" },
	{ path: "/orders/:id", page: OrderPage, access: "signedIn" },
	{ path: "/account", page: Account, access: "signedIn" },
	{ path: "/notifications", page: Notifications, access: "signedIn" },
	{ path: "/support", page: TicketList, access: "signedIn" },
	{ path: "/support/new", page: NewTicket, access: "signedIn" },
	{ path: "/support/:id", page: TicketPage, access: "signedIn" },
	{ path: "/admin", page: AdminHome, access: "staff" },
	{ path: "/admin/products", page: AdminProducts, access: "admin" },
	{ path: "/admin/products/new", page: AdminProductEdit, access: "admin" },
	{ path: "/admin/products/import", page: AdminCatalogImport, access: "admin" },
	{ path: "/admin/products/:id", page: AdminProductEdit, access: "admin" },
	{ path: "/admin/categories", page: AdminCategories, access: "admin" },
	{ path: "/admin/promotions", page: AdminPromotions, access: "admin" },
	{ path: "/admin/shipping", page: AdminShipping, access: "admin" },
	{ path: "/admin/tax", page: AdminTax, access: "admin" },
	{ path: "/admin/orders", page: AdminOrders, access: "admin" },
	{ path: "/admin/orders/:id", page: AdminOrder, access: "admin" },
	{ path: "/admin/support", page: AdminTickets, access: "staff" },
	{ path: "/admin/support/:id", page: AdminTicket, access: "staff" },
	{ path: "/admin/users", page: AdminUsers, access: "admin" },
	{ path: "/admin/users/:id", page: AdminUser, access: "admin" },
	{ path: "/admin/oauth-clients", page: AdminOAuthClients, access: "admin" },
	{ path: "/admin/mailbox", page: AdminMailbox, access: "admin" },
	{ path: "/admin/mailbox/:id", page: AdminMail, access: "admin" },
	{ path: "/admin/webhooks", page: AdminWebhooks, access: "admin" },
	{ path: "/admin/webhooks/:id", page: AdminWebhook, access: "admin" },
];

function resolve(path: string): { route: Route; params: Params } | null {
	const clean = path.length > 1 ? path.replace(/\/+$/, "") : path;
	for (const route of ROUTES) {
		const m = matchPath(route.path, clean);
		if (m) return { route, params: m.params };
	}
	return null;
}

export function App() {
	const loc = useStore(location);
	const lang = useLanguage();
	const state = useStore(session);
	const found = resolve(loc.path);
	const inAdmin = loc.path === "/admin" || loc.path.startsWith("/admin/");

	useEffect(() => {
		void refreshBadges();
	}, [loc.path, state.status]);

	let content: ComponentChildren;
	if (!found) content = <NotFound />;
	else if (found.route.access !== "anyone" && state.status === "unknown") content = <Loading />;
	else if (found.route.access !== "anyone" && state.status !== "signedIn") content = <SignInFirst />;
	else if (found.route.access === "staff" && !isStaff(state.user)) content = <NoAccess />;
	else if (found.route.access === "admin" && !isAdmin(state.user)) content = <NoAccess />;
	else {
		const P = found.route.page;
		content = <P key={`${found.route.path}:${JSON.stringify(found.params)}`} params={found.params} />;
	}

	return (
		<div class={inAdmin ? "app app-admin" : "app"} key={lang}>
			<a class="skip-link" href="#main">
				{t("nav.skip")}
			</a>
			<Header inAdmin={inAdmin} />
			<div class={inAdmin ? "admin-shell" : "shell"}>
				{inAdmin && isStaff(state.user) ? <AdminNav path={loc.path} /> : null}
				<main id="main" tabIndex={-1}>
					{inAdmin ? null : <VerifyBanner />}
					{content}
				</main>
			</div>
			<footer class="site-footer">
				<p>{t("footer.text")}</p>
			</footer>
		</div>
	);
}

const isUnder = (path: string, href: string) => path === href || path.startsWith(`${href}/`);

function NavLink(props: { href: string; children: ComponentChildren; path: string; exact?: boolean; active?: boolean }) {
	const active = props.active ?? (props.exact ? props.path === props.href : isUnder(props.path, props.href));
	return (
		<a href={props.href} aria-current={active ? "page" : undefined}>
			{props.children}
		</a>
	);
}

function Header(props: { inAdmin: boolean }) {
	const state = useStore(session);
	const loc = useStore(location);
	const count = useStore(cartCount);
	const unread = useStore(unreadCount);
	const lang = useStore(language);
	const user = state.user;
	return (
		<header class="site-header">
			<div class="header-inner">
				<a class="brand" href={props.inAdmin ? "/admin" : "/"}>
					{props.inAdmin ? t("admin.brand") : t("app.name")}
				</a>
				<nav aria-label={t("nav.main")}>
					<ul class="nav-list">
						{props.inAdmin ? (
							<li>
								<a href="/">{t("nav.storefront")}</a>
							</li>
						) : (
							<>
								<li>
									<NavLink href="/search" path={loc.path}>
										{t("nav.search")}
									</NavLink>
								</li>
								<li>
									<NavLink href="/cart" path={loc.path}>
										{t("nav.cart")}
										{count > 0 ? <span class="count"> ({count})</span> : null}
									</NavLink>
								</li>
							</>
						)}
						{user ? (
							<>
								{!props.inAdmin ? (
									<>
										<li>
											<NavLink href="/orders" path={loc.path}>
												{t("nav.orders")}
											</NavLink>
										</li>
										<li>
											<NavLink href="/support" path={loc.path}>
												{t("nav.support")}
											</NavLink>
										</li>
										<li>
											<NavLink href="/notifications" path={loc.path}>
												{t("nav.notifications")}
												{unread > 0 ? <span class="count"> ({unread})</span> : null}
											</NavLink>
										</li>
									</>
								) : null}
								{isStaff(user) && !props.inAdmin ? (
									<li>
										<a href="/admin">{t("nav.backOffice")}</a>
									</li>
								) : null}
								<li>
									<NavLink href="/account" path={loc.path}>
										{t("nav.account")}
									</NavLink>
								</li>
								<li>
									<button type="button" class="link-button" onClick={() => void signOut()}>
										{t("nav.signOut")}
									</button>
								</li>
							</>
						) : state.status === "signedOut" ? (
							<>
								<li>
									<NavLink href="/login" path={loc.path}>
										{t("nav.signIn")}
									</NavLink>
								</li>
								<li>
									<NavLink href="/register" path={loc.path}>
										{t("nav.register")}
									</NavLink>
								</li>
							</>
						) : null}
					</ul>
				</nav>
				{!user ? (
					<div class="lang-switch">
						<label for="lang-select" class="visually-hidden">
							{t("nav.language")}
						</label>
						<select id="lang-select" value={lang} onChange={e => setLanguage((e.currentTarget as HTMLSelectElement).value)}>
							{LANGUAGES.map(l => (
								<option key={l} value={l}>
									{t(`language.${l}` as MessageKey)}
								</option>
							))}
						</select>
					</div>
				) : null}
			</div>
		</header>
	);
}

function AdminNav(props: { path: string }) {
	const user = useStore(session).user;
	const admin = isAdmin(user);
	const links: [string, MessageKey, boolean][] = [
		["/admin", "admin.nav.dashboard", true],
		["/admin/orders", "admin.nav.orders", admin],
		["/admin/products", "admin.nav.products", admin],
		["/admin/products/import", "admin.nav.import", admin],
		["/admin/categories", "admin.nav.categories", admin],
		["/admin/promotions", "admin.nav.promotions", admin],
		["/admin/shipping", "admin.nav.shipping", admin],
		["/admin/tax", "admin.nav.tax", admin],
		["/admin/support", "admin.nav.support", true],
		["/admin/users", "admin.nav.users", admin],
		["/admin/oauth-clients", "admin.nav.oauthClients", admin],
		["/admin/mailbox", "admin.nav.mailbox", admin],
		["/admin/webhooks", "admin.nav.webhooks", admin],
	];
	// The most specific link is the current page (/admin/products/import is not also "Products").
	const current = links
		.filter(([href]) => (href === "/admin" ? props.path === href : isUnder(props.path, href)))
		.reduce<string | null>((best, [href]) => (best && best.length >= href.length ? best : href), null);
	return (
		<nav class="admin-nav" aria-label={t("admin.nav.label")}>
			<ul>
				{links
					.filter(([, , show]) => show)
					.map(([href, key]) => (
						<li key={href}>
							<NavLink href={href} path={props.path} active={href === current}>
								{t(key)}
							</NavLink>
						</li>
					))}
			</ul>
		</nav>
	);
}

function NotFound() {
	return (
		<Page title={t("notFound.title")}>
			<p>{t("notFound.text")}</p>
			<p>
				<a href="/">{t("notFound.home")}</a>
			</p>
		</Page>
	);
}

function SignInFirst() {
	const loc = useStore(location);
	const next = encodeURIComponent(loc.path + (loc.query.toString() ? `?${loc.query}` : ""));
	return (
		<Page title={t("auth.required.title")}>
			<p>{t("auth.required.text")}</p>
			<p>
				<a class="button" href={`/login?next=${next}`}>
					{t("nav.signIn")}
				</a>{" "}
				<a href={`/register?next=${next}`}>{t("nav.register")}</a>
			</p>
		</Page>
	);
}

function NoAccess() {
	return (
		<Page title={t("noAccess.title")}>
			<p>{t("noAccess.text")}</p>
			<p>
				<a href="/">{t("notFound.home")}</a>
			</p>
		</Page>
	);
}
