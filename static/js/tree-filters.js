/* Strategy page filters (templates/tracking/_tree_filters.html).

   htmx sends every field of the filter form; this drops the empty ones (and "channel"
   when no status is chosen) before the request is made, so the pushed URL reads
   "?stale=on&kind=sub_objective" rather than "?q=&status=&channel=either&…". The server
   treats both the same; without JavaScript the form is submitted as it is.
*/
(function () {
  "use strict";

  document.addEventListener("htmx:configRequest", function (event) {
    var form = event.detail.elt;
    if (!form || !form.hasAttribute || !form.hasAttribute("data-tree-filters")) {
      return;
    }
    var data = event.detail.formData;
    var status = data.get("status");
    Array.from(new Set(data.keys())).forEach(function (key) {
      var values = data.getAll(key).filter(function (value) {
        return value !== "";
      });
      if (values.length === 0 || (key === "channel" && !status)) {
        data.delete(key);
      }
    });
  });
})();
