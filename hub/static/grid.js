// The desk's day and week grids: the arrow keys move between the empty quarter hours and bookings
// (up and down within a column, left and right to the same time in the next column). Tab still
// goes through them in order; without this script nothing is lost.
(function () {
  "use strict";

  // Cells are placed by classes (r-N, e-N in hub.css), so their rows are read from the computed style.
  function rowOf(cell) {
    var style = window.getComputedStyle(cell);
    var start = parseInt(style.gridRowStart, 10);
    var end = parseInt(style.gridRowEnd, 10);
    if (isNaN(start)) start = 1;
    if (isNaN(end) || end <= start) end = start + 1;
    return { start: start, end: end };
  }

  function cellsOf(column) {
    return Array.prototype.slice.call(column.querySelectorAll(".desk-col-body > a"))
      .sort(function (a, b) { return rowOf(a).start - rowOf(b).start; });
  }

  // The cell of a column at a row: the one that covers it, else the nearest by start.
  function atRow(cells, row) {
    var best = null, distance = Infinity;
    cells.forEach(function (cell) {
      var span = rowOf(cell);
      var d = (row >= span.start && row < span.end) ? -1 : Math.abs(span.start - row);
      if (d < distance) { best = cell; distance = d; }
    });
    return best;
  }

  document.querySelectorAll(".desk-grid").forEach(function (grid) {
    var columns = Array.prototype.slice.call(grid.querySelectorAll(".desk-col"));
    grid.addEventListener("keydown", function (event) {
      if (event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
      var cell = event.target.closest(".desk-col-body > a");
      if (!cell) return;
      var column = cell.closest(".desk-col");
      var index = columns.indexOf(column);
      var cells = cellsOf(column);
      var here = cells.indexOf(cell);
      var row = rowOf(cell).start;
      var next = null;
      if (event.key === "ArrowUp") next = cells[here - 1] || null;
      else if (event.key === "ArrowDown") next = cells[here + 1] || null;
      else if (event.key === "ArrowLeft" || event.key === "ArrowRight") {
        var step = event.key === "ArrowLeft" ? -1 : 1;
        for (var i = index + step; i >= 0 && i < columns.length && !next; i += step) {
          next = atRow(cellsOf(columns[i]), row);
        }
      } else return;
      event.preventDefault();  // the arrows move between cells, not the scroll region
      if (next) {
        next.focus();
        next.scrollIntoView({ block: "nearest", inline: "nearest" });
      }
    });
  });
})();
