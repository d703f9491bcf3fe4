"""Where a school is: the streams layer maps CAP areas and missing-child rings to schools with it."""

from __future__ import annotations

from contracts.common import Contract, DistrictCode, SchoolId
from contracts.emergency import Latitude, Longitude


class SchoolLocated(Contract):
    """`cn.childsafe.school.located.v1`: latest coordinates of one school (compacted topic keyed by school id)."""

    school_id: SchoolId
    district_code: DistrictCode
    lat: Latitude
    lon: Longitude
    active: bool = True
