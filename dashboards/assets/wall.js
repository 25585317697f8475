/* The wall's chart, with its type sized to the screen as the wall's CSS sizes the rest (plotly takes pixels). */
window.dash_clientside = Object.assign({}, window.dash_clientside, {
  wall: {
    sized: function (figure) {
      if (!figure || !figure.layout) { return figure; }
      // 24 px on a 1080-pixel screen, 48 on a 2160 one (a 4K wall at 100%): read from across a room
      var px = Math.round(Math.max(12, Math.min(72, window.innerHeight / 45)));
      var layout = Object.assign({}, figure.layout, {
        font: Object.assign({}, figure.layout.font, {size: px}),
        margin: {l: Math.round(px * 4.2), r: px, t: px, b: Math.round(px * 3)}
      });
      return Object.assign({}, figure, {layout: layout});
    }
  }
});
