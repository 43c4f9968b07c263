// Which grid holds a point, from the directory's polygons kept on the phone (works offline).
function inRing([lon, lat], ring) {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i];
    const [xj, yj] = ring[j];
    if ((yi > lat) !== (yj > lat) && lon < ((xj - xi) * (lat - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

export function gridAt(point, grids) {
  return grids.find((grid) => {
    const [outer, ...holes] = grid.geometry.coordinates;
    return inRing(point, outer) && !holes.some((hole) => inRing(point, hole));
  }) || null;
}
