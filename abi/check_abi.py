#!/usr/bin/env python3
"""Append-only ABI check over abidw XML.

Usage: check_abi.py BASELINE.abi CURRENT.abi

Compares the ABI description of a library (written by libabigail's abidw) with its
baseline and fails on any change our rules forbid:
  - an exported function removed, or its return or parameter types changed;
  - a struct removed, shrunk, or one of its members moved, renamed or retyped;
  - a member added anywhere but after the baseline's end or in the bytes of a reserved*
    member it replaces (how a minor version gives reserved room a meaning);
  - a frozen struct (an array element and a few others, see FROZEN) changed size at all;
  - an enumerator removed or renumbered.
Appending members, enumerators and functions is allowed: that is how a minor version grows.

abidiff's own suppression "has_data_member_inserted_at = end" also hides retyped and
swapped members (libabigail 2.2), so it cannot be the gate; this check is, and abidiff's
report is printed beside it for people.
"""
import sys
import xml.etree.ElementTree as ET

# Structs whose size is part of the ABI, so nothing may be added, not even at the end:
#   - array elements, whose size is the array's stride: udal_kernel_arg_t (launch
#     arguments), udal_specialization_constant_t (module descriptors), udal_host_arg_decl_t
#     (a host kernel's argument declarations);
#   - udal_host_kernel_decl_t, which old HOST_NATIVE modules export with no struct_size: a
#     driver reading an appended field would read past an old module's object. It changes
#     only with UDAL_HOST_KERNEL_ABI_VERSION.
FROZEN = {"udal_kernel_arg_t", "udal_specialization_constant_t", "udal_host_arg_decl_t",
          "udal_host_kernel_decl_t"}


class Corpus:
    def __init__(self, path):
        root = ET.parse(path).getroot()
        self.types = {}
        self.functions = {}
        for elem in root.iter():
            type_id = elem.get("id")
            if type_id and elem.tag != "elf-symbol":
                self.types[type_id] = elem
        for elem in root.iter("function-decl"):
            if elem.get("elf-symbol-id"):
                self.functions[elem.get("name")] = elem
        self.structs = {}
        self.enums = {}
        for elem in self.types.values():
            name = elem.get("name")
            if not (name or "").startswith("udal_"):  # only the public ABI's own types
                continue
            if elem.tag == "class-decl" and elem.get("is-declaration-only") != "yes":
                self.structs[name] = elem
            elif elem.tag == "enum-decl":
                self.enums[name] = elem

    def spell(self, type_id, depth=0):
        """A canonical spelling of a type; structs and enums by name (checked on their own)."""
        if depth > 64:
            return "?"
        elem = self.types.get(type_id)
        if elem is None:
            return f"<{type_id}>"
        tag = elem.tag
        if tag == "type-decl":
            return elem.get("name")
        if tag == "typedef-decl":
            return self.spell(elem.get("type-id"), depth + 1)
        if tag == "class-decl":
            return "struct " + (elem.get("name") or "<anonymous>")
        if tag == "union-decl":
            return "union " + (elem.get("name") or "<anonymous>")
        if tag == "enum-decl":
            return "enum " + (elem.get("name") or "<anonymous>")
        if tag == "pointer-type-def":
            return self.spell(elem.get("type-id"), depth + 1) + "*"
        if tag == "qualified-type-def":
            quals = [q for q in ("const", "volatile", "restrict") if elem.get(q) == "yes"]
            return " ".join(quals) + " " + self.spell(elem.get("type-id"), depth + 1)
        if tag == "array-type-def":
            dims = "".join(f"[{s.get('length')}]" for s in elem.findall("subrange"))
            return self.spell(elem.get("type-id"), depth + 1) + dims
        if tag == "function-type":
            return self.signature(elem, depth + 1)
        return f"<{tag}>"

    def signature(self, elem, depth=0):
        params = [self.spell(p.get("type-id"), depth) for p in elem.findall("parameter")
                  if p.get("is-variadic") != "yes"]
        if any(p.get("is-variadic") == "yes" for p in elem.findall("parameter")):
            params.append("...")
        ret = elem.find("return")
        ret_spelled = self.spell(ret.get("type-id"), depth) if ret is not None else "void"
        return f"{ret_spelled}({', '.join(params)})"

    def bits(self, type_id, depth=0):
        """The size of a type in bits; 0 when abidw does not say."""
        elem = self.types.get(type_id)
        if elem is None or depth > 64:
            return 0
        if elem.get("size-in-bits"):
            return int(elem.get("size-in-bits"))
        if elem.tag == "enum-decl":
            underlying = elem.find("underlying-type")
            return self.bits(underlying.get("type-id"), depth + 1) if underlying is not None else 0
        if elem.tag in ("typedef-decl", "qualified-type-def"):
            return self.bits(elem.get("type-id"), depth + 1)
        return 0

    def members(self, struct):
        """(name, offset in bits, spelled type, size in bits) of each data member."""
        out = []
        for member in struct.findall("data-member"):
            if member.get("layout-offset-in-bits") is None:  # a static member: no layout
                continue
            var = member.find("var-decl")
            out.append((var.get("name"), int(member.get("layout-offset-in-bits")),
                        self.spell(var.get("type-id")), self.bits(var.get("type-id"))))
        return out


def is_reserved(member_name):
    return member_name.startswith("reserved")


def check(baseline, current):
    problems = []
    for name, old_fn in baseline.functions.items():
        new_fn = current.functions.get(name)
        if new_fn is None:
            problems.append(f"function {name} was removed")
            continue
        old_sig, new_sig = baseline.signature(old_fn), current.signature(new_fn)
        if old_sig != new_sig:
            problems.append(f"function {name} changed from {old_sig} to {new_sig}")

    for name, old_struct in baseline.structs.items():
        new_struct = current.structs.get(name)
        if new_struct is None:
            problems.append(f"struct {name} was removed")
            continue
        old_size = int(old_struct.get("size-in-bits", "0"))
        new_size = int(new_struct.get("size-in-bits", "0"))
        if new_size < old_size:
            problems.append(f"struct {name} shrank from {old_size // 8} to {new_size // 8} bytes")
        if name in FROZEN and new_size != old_size:
            problems.append(f"struct {name} is frozen (an array element, or read without a "
                            f"struct_size) and must keep its size ({old_size // 8} bytes), "
                            f"now {new_size // 8}")
        new_members = {m[0]: m for m in current.members(new_struct)}
        old_names = set()
        # Bit ranges of baseline members named reserved* that are gone: a minor version may
        # give their bytes a meaning (zero keeps the baseline's behaviour), so new members may
        # take them, as long as each new member lies inside one such range.
        freed = []
        for member_name, offset, spelled, size in baseline.members(old_struct):
            new_member = new_members.get(member_name)
            if (is_reserved(member_name) and size > 0 and
                    (new_member is None or new_member[1:3] != (offset, spelled))):
                freed.append((offset, offset + size))  # a shrunk reserved* is checked below
                continue
            old_names.add(member_name)
            if new_member is None:
                problems.append(f"{name}.{member_name} was removed or renamed")
            elif new_member[1] != offset:
                problems.append(f"{name}.{member_name} moved from bit {offset} to {new_member[1]}")
            elif new_member[2] != spelled:
                problems.append(f"{name}.{member_name} changed type from {spelled} to "
                                f"{new_member[2]}")
        for member_name, offset, _, size in new_members.values():
            if member_name in old_names or offset >= old_size:
                continue
            if any(start <= offset and offset + max(size, 1) <= end for start, end in freed):
                continue
            problems.append(f"{name}.{member_name} was inserted at bit {offset}, inside the "
                            f"baseline's {old_size // 8} bytes and outside its reserved fields "
                            f"(append only)")

    for name, old_enum in baseline.enums.items():
        new_enum = current.enums.get(name)
        if new_enum is None:
            problems.append(f"enum {name} was removed")
            continue
        new_values = {e.get("name"): e.get("value") for e in new_enum.findall("enumerator")}
        for enumerator in old_enum.findall("enumerator"):
            key, value = enumerator.get("name"), enumerator.get("value")
            if key not in new_values:
                problems.append(f"enumerator {name}::{key} was removed")
            elif new_values[key] != value:
                problems.append(f"enumerator {name}::{key} changed from {value} to "
                                f"{new_values[key]}")
    return problems


def main(argv):
    if len(argv) != 3:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    baseline, current = Corpus(argv[1]), Corpus(argv[2])
    if not baseline.functions:
        print(f"check_abi: {argv[1]} describes no exported function; is it an abidw file?",
              file=sys.stderr)
        return 2
    problems = check(baseline, current)
    for problem in problems:
        print(f"ABI BREAK: {problem}")
    print(f"check_abi: {argv[2]}: {len(baseline.functions)} functions, "
          f"{len(baseline.structs)} structs, {len(baseline.enums)} enums checked against "
          f"{argv[1]}: {'INCOMPATIBLE' if problems else 'compatible'}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
