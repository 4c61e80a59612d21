// The auditor page (placeholder: the page's engineer replaces it). Common top bar only.

import { header } from "./app.js";

header("page.auditor");
document.body.dataset.ready = "true";
