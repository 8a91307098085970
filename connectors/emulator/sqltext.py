"""SQL text for the org's tables: quoted names and the statements built once per column set."""

from __future__ import annotations

from functools import lru_cache


def q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@lru_cache(maxsize=512)
def insert_sql(table: str, names: tuple[str, ...]) -> str:
    return (f"INSERT INTO {q(table)} ({', '.join(q(n) for n in names)}) "
            f"VALUES ({', '.join('?' * len(names))})")


@lru_cache(maxsize=512)
def select_sql(table: str, names: tuple[str, ...]) -> str:
    return f"SELECT {', '.join(q(n) for n in names)} FROM {q(table)} WHERE Id = ?"


@lru_cache(maxsize=512)
def update_sql(table: str, names: tuple[str, ...]) -> str:
    return f"UPDATE {q(table)} SET {', '.join(f'{q(n)} = ?' for n in names)} WHERE Id = ?"
