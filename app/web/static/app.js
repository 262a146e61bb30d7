// Live preview of how each answer is read. The page works without this script.
(function () {
  "use strict";
  // Each answer form names its preview endpoint (data-preview): an instance's on the practice page,
  // the student's own question (data-question) on a homework or exam page.
  var forms = document.querySelectorAll("form[data-preview]");
  if (!forms.length || !window.fetch) return;
  var timers = {};
  function show(form, input, out) {
    var text = input.value, lang = form.dataset.lang;
    // The reading shown whole after a submit goes back to the fixed two lines once replaced.
    if (!text.trim()) { out.textContent = ""; out.classList.remove("error", "submitted"); return; }
    var body = {part: input.closest("[data-part]").dataset.part, text: text, lang: lang};
    if (form.dataset.question) body.question = Number(form.dataset.question);
    fetch(form.dataset.preview, {
      method: "POST",
      headers: {"Content-Type": "application/json"},
      body: JSON.stringify(body)
    }).then(function (r) { return r.ok ? r.json() : null; }).then(function (p) {
      if (!p || input.value !== text) return;  // a newer keystroke wins
      out.classList.remove("submitted");
      out.classList.toggle("error", !p.ok);
      if (p.ok) {
        if (!p.interpreted) { out.textContent = ""; return; }
        var label = lang === "zh" ? "识别为：" : "Read as: ";
        // html is MathML produced and checked on the server from the parsed value.
        out.innerHTML = "";
        out.appendChild(document.createTextNode(label));
        if (p.html) { var span = document.createElement("span"); span.innerHTML = p.html; out.appendChild(span); }
        else { var code = document.createElement("code"); code.textContent = p.interpreted; out.appendChild(code); }
      } else {
        out.textContent = p.message || "";
        if (p.position !== null && p.position !== undefined) {
          // The answer on one line with the spot marked: two lines in all, so the preview's fixed
          // height holds it and nothing below moves.
          // The position counts in the text as read (x² read as x^(2), full-width as ASCII): the
          // mark goes under that text, or it lands beside the mistake.
          var read = typeof p.text === "string" ? p.text : text;
          var at = Math.max(0, Math.min(p.position, read.length));
          var spot = document.createElement("code");
          spot.className = "spot";
          spot.appendChild(document.createTextNode(read.slice(0, at)));
          var mark = document.createElement("mark");
          mark.textContent = at < read.length ? read.charAt(at) : "\u2002";  // the end: an en space to mark
          spot.appendChild(mark);
          spot.appendChild(document.createTextNode(read.slice(at + 1)));
          out.appendChild(document.createElement("br"));
          out.appendChild(spot);
        }
      }
    }).catch(function () { /* preview is a nicety; the submit still works */ });
  }
  forms.forEach(function (form) {
    form.querySelectorAll("input[data-type], textarea[data-type=matrix]").forEach(function (input) {
      var out = input.closest("[data-part]").querySelector("output.preview");
      if (!out) return;
      input.addEventListener("input", function () {
        clearTimeout(timers[input.id]);
        timers[input.id] = setTimeout(function () { show(form, input, out); }, 250);
      });
    });
  });
})();
