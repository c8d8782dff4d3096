"""The drivers' settings as plugin/store/common/settings_list.h declares them (the one list the
store's parser, the 2.4 settings module and vstore are built from), for the harness and the
documentation check."""
import functools
import os
import re

SETTINGS_LIST = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "plugin", "store", "common",
                             "settings_list.h")

_ROW = re.compile(r'X\((BOTH|ARGS23),\s*(\w+),\s*"(\w+)",\s*\w+,\s*"([^"]*)",\s*"((?:[^"\\]|\\.)*)"\)', re.S)


@functools.lru_cache(maxsize=None)
def rows(driver):
    """[(arg, name24 or None, default, meaning)] of a driver, in the header's order."""
    text = open(SETTINGS_LIST).read().replace("\\\n", " ")
    text = re.sub(r"[ \t]+", " ", text)
    macros = dict(re.findall(r"#define (VSTORE_\w+_SETTINGS)\(X(?:, P)?\)(.*?)(?=\n)", text))
    body = macros[f"VSTORE_{driver.upper()}_SETTINGS"]
    body = body.replace(f"VSTORE_ACCESS_SETTINGS(X, {driver})",
                        macros["VSTORE_ACCESS_SETTINGS"].replace("P##", driver))
    body = re.sub(r'"\s+"', "", body)  # C string concatenation
    out = [(arg, name24 if scope == "BOTH" else None, default, meaning)
           for scope, name24, arg, default, meaning in _ROW.findall(body)]
    if not out:
        raise RuntimeError(f"no settings for {driver} in {SETTINGS_LIST}")
    return out


def setting_for_arg(driver, arg):
    """The 2.4 setting of a 2.3 args word (blocking: 2.4's use_worker). A word the driver does
    not know (a test's misspelling) gets the driver prefix, as every 2.4 setting of ours has."""
    for a, name24, _, _ in rows(driver):
        if a == arg:
            return name24 if name24 is not None else "use_worker"
    return f"{driver}_{arg}"
