"""The area-name guess finds text columns under pandas 2 (object) and pandas 3 (str) dtypes alike."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from coverage.tables import OUTSIDE, area_names, guess_name_column

TEXT_DTYPES = [
    pytest.param(object, id="object (pandas 2 default)"),
    pytest.param(pd.StringDtype(na_value=np.nan), id="str (pandas 3 default)"),
    pytest.param(pd.StringDtype(), id="string"),
]


@pytest.mark.parametrize("dtype", TEXT_DTYPES)
def test_guess_skips_numbers_and_geometry(dtype: object) -> None:
    areas = gpd.GeoDataFrame(
        {"code": [440304, 440305], "qh": pd.Series(["福田", "南山"], dtype=dtype)},
        geometry=[shapely.box(0, 0, 10, 10), shapely.box(10, 0, 20, 10)],
        crs="EPSG:32650",
    )
    assert areas["qh"].dtype == dtype
    assert guess_name_column(areas) == "qh"
    units = gpd.GeoDataFrame(geometry=shapely.points([(5, 5), (15, 5), (50, 50)]), crs="EPSG:32650")
    assert area_names(units, areas, None).tolist() == ["福田", "南山", OUTSIDE]


def test_no_text_column_numbers_the_areas() -> None:
    areas = gpd.GeoDataFrame({"code": [1]}, geometry=[shapely.box(0, 0, 10, 10)], crs="EPSG:32650")
    assert guess_name_column(areas) is None
    units = gpd.GeoDataFrame(geometry=shapely.points([(5, 5)]), crs="EPSG:32650")
    assert area_names(units, areas, None).tolist() == ["area-0"]
