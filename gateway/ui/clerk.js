// The clerk page (placeholder: the page's engineer replaces it). Common top bar only.

import { header } from "./app.js";

header("page.clerk");
document.body.dataset.ready = "true";
