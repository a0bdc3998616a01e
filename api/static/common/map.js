/* Bauhof's maps, shared by the pages that draw one: Leaflet from /vendor/leaflet/, tiles from the
   configured URL template (GET /api/v1/public/map-config). With no tile URL configured, or when
   tiles fail to load, the map keeps drawing its vector layers (routes, areas, pins) on a plain
   background: a map never depends on a tile server being reachable. */
(function () {
  "use strict";
  const NONE = { tile_url: "", attribution: "", max_zoom: 19 };
  let pending = null;

  /** The map configuration, asked for once per page. */
  function config() {
    if (!pending) {
      pending = fetch("/api/v1/public/map-config")
        .then((r) => (r.ok ? r.json() : NONE))
        .catch(() => NONE);
    }
    return pending;
  }

  /** A Leaflet map in `element` with the configured tiles; resolves to {map, config}. */
  async function create(element, options) {
    const cfg = await config();
    const map = L.map(element, Object.assign({ preferCanvas: true }, options || {}));
    element.classList.add("bauhof-map");
    if (cfg.tile_url) {
      const tiles = L.tileLayer(cfg.tile_url, { maxZoom: cfg.max_zoom, attribution: cfg.attribution });
      let failed = 0;
      tiles.on("tileerror", () => {
        failed += 1;
        if (failed === 4) element.classList.add("bauhof-map--no-tiles");
      });
      tiles.addTo(map);
    } else {
      element.classList.add("bauhof-map--no-tiles");
    }
    return { map, config: cfg };
  }

  window.BauhofMap = { create, config };
})();
