"""M4LE's six news tasks (data/create_classification_data.py: mnds_news_classify_one / _retrieval / _count,
thucnews_classify_one / _retrieval / _count), built at any length: see lc_bench/tasks/m4le.py."""

from __future__ import annotations

import random
from typing import Any, ClassVar

from lc_bench.registry import TASKS
from lc_bench.scoring.m4le import cls_f1, exact_match
from lc_bench.tasks.m4le import ARTS, M4LETask, Maker, hex_id, insert_at
from lc_bench.tasks.m4le_data import prompts


class NewsTask(M4LETask):
    """The six news tasks: `kind` single (one article's category), multiple (ids of a category), count."""

    kind: ClassVar[str]

    def _texts(self) -> dict[str, Any]:
        p = prompts()
        key = (
            f"{'mnds' if self.source == 'mnds' else 'thucnews'}_{self.ability.split()[0]}_"
            f"{'single' if self.kind == 'single' else 'multiple'}"
        )
        return {
            "instruction": p[f"{key}_instruction"],
            "example": p.get(f"{key}_example"),
            "articles": p["mnds_examples"],
        }

    def _example(self, rng: random.Random, texts: dict[str, Any]) -> str:
        if self.source == "thucnews":
            return texts["example"]
        ids = [hex_id(rng) for _ in texts["articles"]]
        if self.kind == "single":
            example = "\n".join(f"Article {i}: {t}" for i, t in zip(ids, texts["articles"], strict=True))
            return example + f"\nQuestion: What is the category of article {ids[0]}?\nAnswer: {ARTS}"
        if self.kind == "multiple":
            example = "\n\n".join(f"The article id is {i}. {t}" for i, t in zip(ids, texts["articles"], strict=True))
            return example + (
                "\nQuestion: Provide me the article id of all the news articles related to "
                f"'{ARTS}.'.\nAnswer: {', '.join(ids[:2])}."
            )
        example = "\n".join(f"Article: {t}" for t in texts["articles"])
        return example + f"\nQuestion: Provide me the number of articles related to '{ARTS}.'.\nAnswer: 2."

    def _line(self, article_id: str, text: str) -> str:
        zh = self.source == "thucnews"
        if self.kind == "single":
            return f"新闻{article_id}：{text}" if zh else f"Article {article_id}: {text.strip()}"
        if self.kind == "multiple":
            return f"新闻 {article_id}：{text}" if zh else f"The article id {article_id}. {text}"
        return f"新闻：{text.strip()}" if zh else f"Article: {text.strip()}"

    def _question(self, target: str) -> str:
        zh = self.source == "thucnews"
        if self.kind == "single":
            return (
                f"\n问题：请返回新闻{target}的类别。\n回答："
                if zh
                else f"\nQuestion: What is the category of article {target}?\nAnswer:"
            )
        if self.kind == "multiple":
            return (
                f"\n问题：请返回所有{target}新闻的编号。\n回答："
                if zh
                else f"\nQuestion: Provide me the article id of all the news articles related to '{target}'.\nAnswer:"
            )
        return (
            f"\n问题：以上有多少篇新闻是关于{target}的？\n回答："
            if zh
            else f"\nQuestion: Provide me the number of articles related to '{target}'.\nAnswer:"
        )

    def generator(self, rng: random.Random, records: tuple[Any, ...], index: int) -> tuple[Maker, int]:
        texts = self._texts()
        head = texts["instruction"] + "\n" + self._example(rng, texts) + "\n\n"
        joiner = "\n\n" if self.kind == "multiple" and self.source == "mnds" else "\n"
        order = rng.sample(range(len(records)), len(records))
        ids = [hex_id(rng) for _ in records]
        if self.kind == "single":  # the questioned article (order[0]) at a seeded place among the others
            place = rng.random()

            def make(n: int) -> tuple[str, str, dict[str, Any]]:
                rows = insert_at(order[1:n], [order[0]], [place])
                body = joiner.join(self._line(ids[k], records[k][0]) for k in rows)
                extra = {"n_para": len(rows), "gold_index": rows.index(order[0]), "category": records[order[0]][1]}
                return head + body + self._question(ids[order[0]]), records[order[0]][1], extra

            return make, len(records)
        if self.kind == "multiple":  # (at least one article: min_units)
            pick = rng.random()
            sep = "，" if self.source == "thucnews" else ", "

            def make(n: int) -> tuple[str, str, dict[str, Any]]:
                classes: dict[str, list[str]] = {}
                for k in order[:n]:
                    classes.setdefault(records[k][1], []).append(ids[k])
                several = sorted(c for c, v in classes.items() if len(v) > 1) or sorted(classes)
                target = several[int(pick * len(several))] if several else records[order[0]][1]
                body = joiner.join(self._line(ids[k], records[k][0]) for k in order[:n])
                extra = {"n_para": n, "category": target, "labels": classes}
                return head + body + self._question(target), sep.join(classes.get(target, [])), extra

            return make, len(records)
        target = rng.choice(sorted({category for _, category in records}))
        own = [k for k in order if records[k][1] == target]
        others = [k for k in order if records[k][1] != target]
        n_class = min(index % 6 + 1, len(own))  # the original cycles 1..max_class (at most 6)
        chosen, places = own[:n_class], [rng.random() for _ in range(n_class)]
        stop = "。" if self.source == "thucnews" else "."

        def make(n: int) -> tuple[str, str, dict[str, Any]]:
            rows = insert_at(others[:n], chosen, places)
            body = joiner.join(self._line("", records[k][0]) for k in rows)
            extra = {"n_para": len(rows), "category": target, "count": n_class}
            return head + body + self._question(target), f"{n_class}{stop}", extra

        return make, len(others)

    def score(self, output: str, references: Any, metadata: dict[str, Any]) -> dict[str, float]:
        zh = self.source == "thucnews"
        if self.kind == "single":
            return {"exact_match": exact_match(output, references)}
        if self.kind == "multiple":
            return {"cls_f1": cls_f1(output, references[0], "。" if zh else ".", "，" if zh else ",")}
        stop = "。" if zh else "."
        return {"exact_match": exact_match(output, references, end_tokens=(stop,), stop=stop)}


def _news(name: str, source: str, kind: str, ability: str, what: str) -> None:
    language = "zh" if source == "thucnews" else "en"
    attrs = {
        "name": name,
        "source": source,
        "kind": kind,
        "ability": ability,
        "language": language,
        "description": f"M4LE {name.removeprefix('m4le_')} ({ability}, {language}): {what}",
        "primary_metric": "cls_f1" if kind == "multiple" else "exact_match",
        "unit_tokens": 100.0 if language == "en" else 150.0,
        "min_units": 1 if kind == "multiple" else 0,
    }
    TASKS.register(name)(type(name, (NewsTask,), attrs))


for _source, _prefix in (("mnds", "m4le_mnds_news"), ("thucnews", "m4le_thucnews")):
    _news(f"{_prefix}_explicit_single", _source, "single", "explicit single-span", "category of the article asked")
    _news(f"{_prefix}_explicit_multiple", _source, "multiple", "explicit multiple-span", "ids of a category's articles")
    _news(f"{_prefix}_semantic_multiple", _source, "count", "semantic multiple-span", "count a category's articles")
