// The holder page (placeholder: the page's engineer replaces it). Common top bar only.

import { header } from "./app.js";

header("page.holder");
document.body.dataset.ready = "true";
