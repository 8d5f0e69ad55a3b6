"""Grid outlines: the packed atlas gives each hall the outline it would get on its own grid."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from scipy.ndimage import binary_dilation

from coverage import _raster
from coverage._raster import _disk_rectangles, band_polygons, dilate_disk


@pytest.mark.parametrize("radius", [0.0, 1.0, 2.5, 4.0, 4.05, 7.3])
def test_dilation_equals_a_disk_structuring_element(radius: float) -> None:
    rng = np.random.default_rng(int(radius * 10))
    mask = rng.random((40, 57)) > 0.985
    mask[0, 0] = mask[-1, -1] = True  # at the edges
    r = int(np.floor(radius))
    yy, xx = np.mgrid[-r : r + 1, -r : r + 1]
    disk = (xx**2 + yy**2) <= radius**2 + 1e-9
    ref = binary_dilation(mask, structure=disk) if r else mask
    np.testing.assert_array_equal(dilate_disk(mask, radius), ref)
    assert all(w >= 0 and h >= 0 for w, h in _disk_rectangles(radius))


def scattered_groups(n_groups: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, 3000, (n_groups, 2))
    xy, group = [], []
    for g, (cx, cy) in enumerate(centres):
        t = np.linspace(0, 1, 80)
        angle = rng.uniform(0, np.pi)
        length = rng.uniform(50, 600)
        xy.append(np.column_stack([cx + np.cos(angle) * length * t, cy + np.sin(angle) * length * t]))
        group.append(np.full(t.size, g))
    return np.concatenate(xy), np.concatenate(group)


def test_atlas_outlines_equal_one_grid_per_group(monkeypatch: pytest.MonkeyPatch) -> None:
    xy, group = scattered_groups(25, seed=4)
    n = int(group.max()) + 2  # the last group has no points
    packed, union = band_polygons(xy, group, n, buffer_m=25.0, resolution_m=6.25, union=True)
    monkeypatch.setattr(_raster, "ATLAS_CELLS", 1)  # one group per atlas: each on its own grid
    alone, union_alone = band_polygons(xy, group, n, buffer_m=25.0, resolution_m=6.25, union=True)
    for a, b in zip(packed, alone, strict=True):
        assert shapely.symmetric_difference(a, b).area < 1e-6
    assert packed[-1].is_empty
    assert shapely.symmetric_difference(union, union_alone).area < 1e-6
    # The union contains every group's band, and the band is about 50 m wide around each line.
    assert shapely.difference(shapely.union_all(list(packed[:-1])), union).area < 1.0
    line = shapely.LineString(xy[group == 0][[0, -1]])
    exact = line.buffer(25.0)
    assert abs(packed[0].area - exact.area) / exact.area < 0.05
