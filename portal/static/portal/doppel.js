// Mount every Bokeh json_item the page carries (<script id="KEY-item">) into <div id="KEY">.
(function () {
  function mount() {
    document.querySelectorAll('script[type="application/json"][id$="-item"]').forEach(function (node) {
      var target = node.id.slice(0, -5);
      if (document.getElementById(target) && window.Bokeh) {
        Bokeh.embed.embed_item(JSON.parse(node.textContent), target);
      }
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", mount); } else { mount(); }
})();

// A NaN point wherever the wavelength jumps by more than 3 median steps in ln λ (a detector gap),
// so the line breaks there instead of bridging it: the rule of portal/plots/spectrum.py:with_gaps.
function withGaps(wavelength, flux) {
  var steps = [];
  for (var i = 1; i < wavelength.length; i++) { steps.push(Math.log(wavelength[i] / wavelength[i - 1])); }
  var sorted = steps.slice().sort(function (a, b) { return a - b; });
  var middle = Math.floor(sorted.length / 2);
  var median = sorted.length % 2 ? sorted[middle] : 0.5 * (sorted[middle - 1] + sorted[middle]);
  var out = {wavelength: [], flux: []};
  for (var k = 0; k < wavelength.length; k++) {
    if (k > 0 && steps[k - 1] > 3 * median) {
      out.wavelength.push(0.5 * (wavelength[k - 1] + wavelength[k]));
      out.flux.push(NaN);
    }
    out.wavelength.push(wavelength[k]);
    out.flux.push(flux[k]);
  }
  return out;
}

// The "at another Teff/logg" panel: sliders → /api/stars/{id}/generate → the generated line.
function doppelGenerate(starId) {
  var params = new URLSearchParams();
  var outside = false;
  document.querySelectorAll("input.generate-slider").forEach(function (slider) {
    params.set(slider.name, slider.value);
    // the step's decimals, never float noise (3.2, not 3.20000002384186)
    var decimals = (slider.step.split(".")[1] || "").length;
    document.getElementById(slider.name + "-value").textContent = (+slider.value).toFixed(decimals);
    if (+slider.value < +slider.dataset.trainLow || +slider.value > +slider.dataset.trainHigh) { outside = true; }
  });
  fetch("/api/stars/" + starId + "/generate/?" + params.toString(), {headers: {"Accept": "application/json"}})
    .then(function (response) { return response.json(); })
    .then(function (body) {
      var warning = document.getElementById("generate-warning");
      if (body.error) { warning.textContent = body.error.detail; warning.hidden = false; return; }
      warning.hidden = !body.outside_training_range;
      warning.textContent = "These parameters lie outside the training range: the spectrum is an extrapolation.";
      var doc = Bokeh.documents.find(function (d) { return d.get_model_by_name("generated-source"); });
      if (doc) {
        var source = doc.get_model_by_name("generated-source");
        source.data = withGaps(body.wavelength, body.flux);
      }
    });
}
