#!/usr/bin/env python3
"""Generates N help-center articles for the search benchmark, in the format `kefu kb import`
reads: paragraphs, titles and tags drawn from the demo help center, so the words and their
frequencies are those of real support articles in en, zh-CN and zh-TW. Deterministic (seeded).
Usage: gen_articles.py DEMO_DIR OUT_DIR [N]"""
import json, os, random, re, shutil, sys

demo, out = sys.argv[1], sys.argv[2]
n = int(sys.argv[3]) if len(sys.argv) > 3 else 10_000
rng = random.Random(20261123)
pools = {}
for name in sorted(os.listdir(os.path.join(demo, "articles"))):
    text = open(os.path.join(demo, "articles", name), encoding="utf-8").read()
    m = re.match(r"---\n(.*?)\n---\n(.*)", text, re.S)
    front, body = m.group(1), m.group(2)
    meta = dict(re.findall(r"^(\w+): (.*)$", front, re.M))
    pool = pools.setdefault(meta["locale"], {"paras": [], "titles": [], "tags": set(), "cats": set()})
    pool["paras"] += [p.strip() for p in body.split("\n\n") if p.strip() and not p.startswith("#")]
    pool["titles"].append(meta["title"])
    pool["tags"].update(t.strip() for t in meta.get("tags", "[]").strip("[]").split(",") if t.strip())
    pool["cats"].add((meta["category"], meta.get("section", "")))
os.makedirs(out, exist_ok=True)
shutil.copy(os.path.join(demo, "categories.yaml"), out)
weights = [("en", 0.5), ("zh-CN", 0.35), ("zh-TW", 0.15)]
for i in range(n):
    r, locale = rng.random(), "en"
    for loc, w in weights:
        if r < w:
            locale = loc
            break
        r -= w
    p = pools[locale]
    a, b = rng.sample(p["titles"], 2)
    title = f"{a.split('?')[0]} / {b.split('?')[0]} ({i})"[:190]
    category, section = rng.choice(sorted(p["cats"]))
    tags = rng.sample(sorted(p["tags"]), 3)
    body = "\n\n".join(rng.sample(p["paras"], rng.randint(5, 12)))
    kind = "announcement" if category == "announcements" else "article"
    with open(os.path.join(out, f"gen-{i}.md"), "w", encoding="utf-8") as f:
        f.write(f"---\nslug: gen-{i}\ntitle: {json.dumps(title, ensure_ascii=False)}\nlocale: {locale}\nkind: {kind}\ncategory: {category}\n"
                f"section: {section}\ntags: [{', '.join(tags)}]\n---\n\n{body}\n")
print(f"{n} articles in {out}")
