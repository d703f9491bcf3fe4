"""A tiny fictional directory for SMS tests, written as CSV and loaded through the real importer."""

from __future__ import annotations

from pathlib import Path

from consumers.directory.csv_import import import_directory

# +86 199 0000 xxxx: the generator's documented block, used only against fakes and the local sandbox.
G = {i: f"+861990000{i:04d}" for i in range(1, 20)}

FILES = {
    "schools.csv": "id,name,kind,district_code,lat,lon\nS1,测试学校甲,primary,310115,31.2,121.5\nS2,测试学校乙,primary,310115,,\n",
    "classes.csv": "id,school_id,name,grade\nS1-K1,S1,一班,1\nS1-K2,S1,二班,2\nS2-K1,S2,一班,1\n",
    "children.csv": "id,school_id,class_id\nC1,S1,S1-K1\nC2,S1,S1-K1\nC3,S1,S1-K2\nC4,S2,S2-K1\n",
    "guardians.csv": "id,phone,language\n" + "".join(
        f"G{i},{G[i]},{'en' if i == 4 else 'zh-CN'}\n" for i in range(1, 8)),
    # C1: G1 then G2 then G3; C2 (sibling of C1): G1, G2; C3: G4 then G5; C4 (other school): G6, G7
    "child_guardians.csv": "child_id,guardian_id,contact_order\nC1,G1,0\nC1,G2,1\nC1,G3,2\nC2,G1,0\nC2,G2,1\n"
                           "C3,G4,0\nC3,G5,1\nC4,G6,0\nC4,G7,1\n",
    "school_contacts.csv": f"id,school_id,role,phone,language,contact_order\nS1-head,S1,head,{G[11]},zh-CN,0\n"
                           f"S2-head,S2,head,{G[12]},zh-CN,0\n",
}


def write(folder: Path, files: dict[str, str] = FILES) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def load(engine, folder: Path) -> None:
    import_directory(engine, [write(folder)])
