import { render } from "preact";
import { App } from "./app";
import { restoreSession } from "./api/account";
import { watchOtherTabs } from "./api/session";
import { setLanguage } from "./i18n";
import { interceptLinks } from "./lib/router";
import "./styles.css";

setLanguage(null);
interceptLinks();
watchOtherTabs();
void restoreSession();
render(<App />, document.getElementById("app")!);
