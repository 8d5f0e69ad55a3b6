/* coverage-planner map: draws the layers, boxes and controls of a coverage map.
 *
 * Everything a user wrote (hall names, ids, addresses, area names, titles)
 * arrives in `data` as JSON and is written to the page with textContent or
 * as DOM nodes, never as HTML: Leaflet popups and tooltips get elements, not
 * strings. This file is static; the page passes the map and the data.
 */
/* Population cells (coverage/_map_residents.py): "q" holds 8 numbers a cell,
 * its four corners (the first relative to the previous cell's first corner,
 * the others to the corner before), "n" the residents and "o" the opacity;
 * `tip` is the text around the number. Returns GeoJSON features. */
function coverageCells(cells, tip) {
  "use strict";
  var q = cells.q, out = [], x0 = 0, y0 = 0;
  for (var c = 0; c < cells.n.length; c++) {
    var i = 8 * c, ring = [];
    x0 += q[i];
    y0 += q[i + 1];
    var x = x0, y = y0;
    ring.push([x / 1e6, y / 1e6]);
    for (var k = 2; k < 8; k += 2) {
      x += q[i + k];
      y += q[i + k + 1];
      ring.push([x / 1e6, y / 1e6]);
    }
    ring.push(ring[0]);
    out.push({
      type: "Feature",
      geometry: {type: "Polygon", coordinates: [ring]},
      properties: {o: cells.o[c], tip: tip[0] + Number(cells.n[c]).toLocaleString("en-US") + tip[1]},
    });
  }
  return out;
}

/* Packed geometry (coverage/_map_geo.py): "p" holds each ring or line as
 * [x0, y0, dx1, dy1, ...] in millionths of a degree, every vertex relative to
 * the one before (the first vertex of a geometry is absolute). Returns plain
 * GeoJSON; other geometries are returned as they are. */
function coverageUnpack(g) {
  "use strict";
  if (!g || !g.p) { return g; }
  var x = 0, y = 0;
  function ring(a) {
    var out = new Array(a.length / 2);
    for (var i = 0; i < a.length; i += 2) {
      x += a[i];
      y += a[i + 1];
      out[i / 2] = [x / 1e6, y / 1e6];
    }
    return out;
  }
  if (g.type === "MultiLineString") { return {type: g.type, coordinates: g.p.map(ring)}; }
  if (g.type === "MultiPolygon") {
    return {type: g.type, coordinates: g.p.map(function (poly) { return poly.map(ring); })};
  }
  return null;
}

function coverageMapApp(map, data) {
  "use strict";
  var narrow = window.innerWidth < 700;

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function swatch(color, shape, dashed) {
    var s = el("span", "cov-swatch cov-" + (shape || "square"));
    if (shape === "line" || dashed) {
      s.style.borderColor = color;
      if (dashed) { s.style.borderStyle = "dashed"; }
    } else {
      s.style.background = color;
    }
    return s;
  }

  // A box of rows: title, then [label, value] pairs; user text as textContent.
  function infoBox(title, rows) {
    var box = el("div", "cov-popup");
    if (title) { box.appendChild(el("div", "cov-popup-title", title)); }
    (rows || []).forEach(function (row) {
      var line = el("div", "cov-popup-row");
      line.appendChild(el("span", "cov-popup-label", row[0]));
      line.appendChild(el("span", "cov-popup-value", row[1]));
      line.setAttribute("dir", "auto");
      box.appendChild(line);
    });
    return box;
  }

  function bindInfo(layer, props) {
    if (props.title || props.rows) {
      layer.bindPopup(function () { return infoBox(props.title, props.rows); }, {maxWidth: 300, minWidth: 160});
    }
    if (props.tip) {
      layer.bindTooltip(function () { return el("span", "cov-tip", props.tip); }, {sticky: true});
    }
  }

  function styleOf(spec, feature) {
    var s = Object.assign({}, spec.style || {});
    var p = feature.properties || {};
    if (spec.opacityKey && typeof p[spec.opacityKey] === "number") {
      s.fillOpacity = p[spec.opacityKey];
    }
    return s;
  }

  function pointLayer(spec, feature, latlng) {
    var p = feature.properties || {};
    if (spec.kind === "ranks") {
      var icon = L.divIcon({
        className: "cov-rank",
        html: "",
        iconSize: [26, 26],
        iconAnchor: [13, 13],
        popupAnchor: [0, -12],
      });
      var marker = L.marker(latlng, {icon: icon, riseOnHover: true, keyboard: true, title: p.tip || ""});
      marker.on("add", function () {
        var node = marker.getElement();
        if (node) {
          node.textContent = String(p.label);
          node.style.background = spec.style.fillColor;
        }
      });
      return marker;
    }
    if (spec.kind === "circles") {
      return L.circle(latlng, Object.assign({radius: spec.radius_m, interactive: false}, spec.style));
    }
    var radius = spec.style.radius || 5;
    if (spec.radiusKey && typeof p[spec.radiusKey] === "number") { radius = p[spec.radiusKey]; }
    return L.circleMarker(latlng, Object.assign({}, spec.style, {radius: radius}));
  }

  var overlays = [];
  data.layers.forEach(function (spec) {
    var layer;
    if (spec.kind === "labels") {
      layer = L.layerGroup();
      spec.features.features.forEach(function (f) {
        var c = f.geometry.coordinates;
        var t = L.tooltip({permanent: true, direction: "center", className: "cov-area-label " + (spec.className || ""),
                           interactive: false});
        t.setLatLng([c[1], c[0]]);
        t.setContent(el("span", "", f.properties.label));
        layer.addLayer(t);
      });
    } else {
      if (spec.cells) { spec.features.features = coverageCells(spec.cells, spec.tip); }
      spec.features.features.forEach(function (f) { f.geometry = coverageUnpack(f.geometry); });
      layer = L.geoJSON(spec.features, {
        style: function (f) { return styleOf(spec, f); },
        pointToLayer: function (f, latlng) { return pointLayer(spec, f, latlng); },
        onEachFeature: function (f, lyr) { if (spec.interactive !== false) { bindInfo(lyr, f.properties || {}); } },
        interactive: spec.interactive !== false,
      });
    }
    if (spec.minZoom) {
      // Labels that would crowd a zoomed-out map appear only from minZoom on.
      var fit = function () {
        if (map.getZoom() >= spec.minZoom) { map.addLayer(layer); } else { map.removeLayer(layer); }
      };
      map.on("zoomend", fit);
      map.whenReady(fit);
    } else if (spec.show) {
      layer.addTo(map);
    }
    if (spec.name) { overlays.push([spec.name, layer, spec]); }
  });

  // Layer control: collapsed to a button on phones, open on desktops.
  var control = L.control.layers(null, null, {collapsed: narrow, position: "topright"});
  overlays.forEach(function (o) { control.addOverlay(o[1], o[0]); });
  control.addTo(map);
  var toggle = control.getContainer().querySelector(".leaflet-control-layers-toggle");
  if (toggle) { toggle.setAttribute("title", data.labels.layers); toggle.setAttribute("aria-label", data.labels.layers); }

  L.control.scale({imperial: false, metric: true, position: "bottomleft", maxWidth: narrow ? 90 : 140}).addTo(map);
  if (data.attribution) { map.attributionControl.addAttribution(data.attribution); }
  if (narrow) { map.attributionControl.setPrefix(false); }

  function boxControl(position, className, build) {
    var Ctl = L.Control.extend({
      options: {position: position},
      onAdd: function () {
        var node = el("div", "leaflet-control cov-box " + className);
        build(node);
        L.DomEvent.disableClickPropagation(node);
        L.DomEvent.disableScrollPropagation(node);
        return node;
      },
    });
    return new Ctl().addTo(map);
  }

  if (data.title) {
    boxControl("topleft", "cov-title", function (node) {
      node.appendChild(el("div", "cov-title-main", data.title));
      if (data.subtitle) { node.appendChild(el("div", "cov-title-sub", data.subtitle)); }
    });
  }

  function collapsible(node, heading, open) {
    var details = el("details", "");
    if (open) { details.setAttribute("open", ""); }
    details.appendChild(el("summary", "", heading));
    node.appendChild(details);
    return details;
  }

  if (data.summary && data.summary.length) {
    boxControl("bottomleft", "cov-summary", function (node) {
      var body = collapsible(node, data.labels.summary, true);
      data.summary.forEach(function (line) {
        var row = el("div", "cov-summary-row" + (line.warn ? " cov-warn" : "") + (line.small ? " cov-summary-small" : ""));
        row.appendChild(el("span", "cov-summary-label", line.label));
        if (line.value) { row.appendChild(el("b", "", line.value)); }
        if (line.extra) { row.appendChild(el("span", "cov-summary-extra", line.extra)); }
        body.appendChild(row);
      });
    });
  }

  if (data.legend && data.legend.length) {
    boxControl("bottomright", "cov-legend", function (node) {
      var body = collapsible(node, data.labels.legend, !narrow);
      data.legend.forEach(function (item) {
        var row = el("div", "cov-legend-row");
        row.appendChild(swatch(item.color, item.shape, item.dashed));
        row.appendChild(el("span", "", item.text));
        body.appendChild(row);
      });
    });
  }

  if (data.bounds) { map.fitBounds(data.bounds, {padding: [10, 10]}); }
  window.coverageMapLayers = overlays.map(function (o) { return o[0]; });
  return control;
}
