"""Label and field selectors: parse, print and match, as Kubernetes does.

Label selectors follow k8s.io/apimachinery/pkg/labels (`labels.Parse`, the
`Requirement` type, `Selector.String()`) and metav1's `LabelSelectorAsSelector`
for the structured `matchLabels`/`matchExpressions` form; field selectors
follow k8s.io/apimachinery/pkg/fields (`ParseSelector`, `=`/`==`/`!=` terms,
backslash escapes in values). Every parse error is an `errors.BadRequest`,
which the apiserver returns as a 400, as Kubernetes does for `?labelSelector=`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

from apimachinery.errors import BadRequest

# Operators, spelled as Kubernetes' selection.Operator values.
EQUALS, NOT_EQUALS, IN, NOT_IN = "=", "!=", "in", "notin"
EXISTS, DOES_NOT_EXIST = "exists", "!"

_NAME_RE = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?")
_DNS1123_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_SUBDOMAIN_RE = re.compile(rf"{_DNS1123_LABEL}(\.{_DNS1123_LABEL})*")
_NAME_CHARSET = ("consist of alphanumeric characters, '-', '_' or '.', "
                 "and must start and end with an alphanumeric character")


def _qualified_name_errors(key: str) -> list[str]:
    """Why `key` is not a qualified name (validation.IsQualifiedName); empty when it is."""
    prefix, slash, name = key.rpartition("/")
    errs: list[str] = []
    if slash:
        if not prefix:
            errs.append("prefix part must be non-empty")
        elif len(prefix) > 253 or not _DNS1123_SUBDOMAIN_RE.fullmatch(prefix):
            errs.append("prefix part must be a lowercase RFC 1123 subdomain of at most "
                        "253 characters")
    if not name:
        errs.append("name part must be non-empty")
    elif len(name) > 63:
        errs.append("name part must be no more than 63 characters")
    elif not _NAME_RE.fullmatch(name):
        errs.append(f"name part must {_NAME_CHARSET}")
    return errs


def _validate_key(key: str) -> None:
    errs = _qualified_name_errors(key)
    if errs:
        raise BadRequest(f'invalid label key "{key}": {"; ".join(errs)}')


def _validate_value(key: str, value: str) -> None:
    if len(value) > 63:
        why = "must be no more than 63 characters"
    elif value and not _NAME_RE.fullmatch(value):
        why = f"a valid label must be an empty string or {_NAME_CHARSET}"
    else:
        return
    raise BadRequest(f'invalid label value: "{value}": at key: "{key}": {why}')


class Requirement(NamedTuple):
    """One term of a label selector: `key operator values` (labels.Requirement)."""

    key: str
    operator: str
    values: tuple[str, ...] = ()

    @classmethod
    def new(cls, key: str, operator: str, values: Iterable[str] = ()) -> Requirement:
        """Validate and build a requirement, as labels.NewRequirement does."""
        given = list(values)
        vals = sorted(set(given))
        if operator not in (EQUALS, NOT_EQUALS, IN, NOT_IN, EXISTS, DOES_NOT_EXIST):
            raise BadRequest(f'"{operator}" is not a valid label selector operator')
        _validate_key(key)
        if operator in (IN, NOT_IN) and not vals:
            raise BadRequest(f"{key}: for 'in', 'notin' operators, values set can't be empty")
        if operator in (EQUALS, NOT_EQUALS) and len(given) != 1:
            raise BadRequest(f"{key}: exact-match compatibility requires one single value")
        if operator in (EXISTS, DOES_NOT_EXIST) and vals:
            raise BadRequest(f"{key}: values set must be empty for exists and does not exist")
        for value in vals:
            _validate_value(key, value)
        return cls(key, operator, tuple(vals))

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Absent keys satisfy `!=` and `notin`, as in Kubernetes."""
        present = self.key in labels
        if self.operator == EXISTS:
            return present
        if self.operator == DOES_NOT_EXIST:
            return not present
        if self.operator in (EQUALS, IN):
            return present and labels[self.key] in self.values
        return not present or labels[self.key] not in self.values

    def __str__(self) -> str:
        if self.operator == EXISTS:
            return self.key
        if self.operator == DOES_NOT_EXIST:
            return f"!{self.key}"
        if self.operator in (IN, NOT_IN):
            return f"{self.key} {self.operator} ({','.join(self.values)})"
        return f"{self.key}{self.operator}{self.values[0]}"


class LabelSelector:
    """A conjunction of requirements; `nothing()` is the selector that matches no object.

    Mirrors labels.Selector: `empty` means "matches everything" (labels.Everything()),
    and the string form is canonical (requirements sorted by key, values sorted),
    so two equal selectors print the same.
    """

    __slots__ = ("_nothing", "_requirements")

    def __init__(self, requirements: Iterable[Requirement] = (), *, nothing: bool = False) -> None:
        self._requirements = tuple(sorted(requirements, key=lambda r: (r.key, str(r))))
        self._nothing = nothing

    @classmethod
    def everything(cls) -> LabelSelector:
        """labels.Everything(): what an empty metav1.LabelSelector selects."""
        return cls()

    @classmethod
    def nothing(cls) -> LabelSelector:
        """labels.Nothing(): what a nil metav1.LabelSelector selects."""
        return cls(nothing=True)

    @property
    def requirements(self) -> list[Requirement]:
        return list(self._requirements)

    @property
    def empty(self) -> bool:
        return not self._nothing and not self._requirements

    @property
    def is_nothing(self) -> bool:
        return self._nothing

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        if self._nothing:
            return False
        labels = labels or {}
        return all(r.matches(labels) for r in self._requirements)

    def __str__(self) -> str:
        return ",".join(str(r) for r in self._requirements)

    def __repr__(self) -> str:
        return "LabelSelector(nothing)" if self._nothing else f"LabelSelector({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LabelSelector):
            return NotImplemented
        return (self._nothing, self._requirements) == (other._nothing, other._requirements)

    def __hash__(self) -> int:
        return hash((self._nothing, self._requirements))


# -- label selector string syntax (labels.Parse) --------------------------------------------

_TOKEN_RE = re.compile(r"\s*(?:(!=|==|=|!|\(|\)|,|>|<)|([^\s=!(),<>]+))")
_END = ""  # literal of the end-of-string token
_OPERATORS = {"=": EQUALS, "==": EQUALS, "!=": NOT_EQUALS, "in": IN, "notin": NOT_IN}


class _Token(NamedTuple):
    literal: str
    identifier: bool  # a run of non-special characters (may spell `in`/`notin`)


def _tokenize(text: str) -> list[_Token]:
    """Split into identifiers and symbols, greedily, as labels.Lexer does."""
    found = _TOKEN_RE.findall(text)
    return [_Token(ident or symbol, bool(ident)) for symbol, ident in found] + [_Token(_END, False)]


class _LabelParser:
    """Recursive descent over the token list, with labels.Parser's error messages."""

    def __init__(self, text: str) -> None:
        self.tokens = _tokenize(text)
        self.pos = 0

    def peek(self) -> _Token:
        return self.tokens[self.pos]

    def take(self) -> _Token:
        token = self.tokens[self.pos]
        self.pos = min(self.pos + 1, len(self.tokens) - 1)
        return token

    def parse(self) -> list[Requirement]:
        requirements: list[Requirement] = []
        while True:
            token = self.peek()
            if token.literal == _END:
                return requirements
            if not (token.identifier or token.literal == "!"):
                raise BadRequest(
                    f"found '{token.literal}', expected: !, identifier, or 'end of string'")
            try:
                requirements.append(self.requirement())
            except BadRequest as err:
                raise BadRequest(f"unable to parse requirement: {err.message}") from None
            after = self.take()
            if after.literal == _END:
                return requirements
            if after.literal != ",":
                raise BadRequest(f"found '{after.literal}', expected: ',' or 'end of string'")
            nxt = self.peek()
            if not (nxt.identifier or nxt.literal == "!"):
                raise BadRequest(f"found '{nxt.literal}', expected: identifier after ','")

    def requirement(self) -> Requirement:
        """`!key`, `key`, `key op value` or `key in|notin (values)`."""
        negated = self.peek().literal == "!"
        if negated:
            self.take()
        key = self.take()
        if not key.identifier:
            raise BadRequest(f"found '{key.literal}', expected: identifier")
        _validate_key(key.literal)
        if negated:  # whatever follows `!key` is the caller's to reject
            return Requirement.new(key.literal, DOES_NOT_EXIST)
        if self.peek().literal in (_END, ","):
            return Requirement.new(key.literal, EXISTS)
        op_token = self.take()
        operator = _OPERATORS.get(op_token.literal)
        if operator is None:
            raise BadRequest(f"found '{op_token.literal}', expected: =, !=, ==, in, notin")
        values = self.value_set() if operator in (IN, NOT_IN) else [self.exact_value()]
        return Requirement.new(key.literal, operator, values)

    def exact_value(self) -> str:
        if self.peek().literal in (_END, ","):
            return ""
        token = self.take()
        if not token.identifier:
            raise BadRequest(f"found '{token.literal}', expected: identifier")
        return token.literal

    def value_set(self) -> list[str]:
        """`(a,b)`; empty items such as `(a,)` or `()` stand for the empty value."""
        opening = self.take()
        if opening.literal != "(":
            raise BadRequest(f"found '{opening.literal}', expected: '('")
        values: list[str] = []
        pending = True  # a value may come next; an empty slot stands for ""
        while (token := self.take()).literal != ")":
            if token.identifier and pending:
                values.append(token.literal)
                pending = False
            elif token.literal == ",":
                values += [""] if pending else []
                pending = True
            else:
                wanted = "',', ')' or identifier" if pending else "',' or ')'"
                raise BadRequest(f"found '{token.literal}', expected: {wanted}")
        return values + ([""] if pending else [])


def parse_label_selector(text: str | None) -> LabelSelector:
    """Parse `app=web,tier in (a,b),!legacy`; empty or None selects everything."""
    if not text or not text.strip():
        return LabelSelector.everything()
    return LabelSelector(_LabelParser(text).parse())


def selector_from_dict(spec: Mapping[str, Any] | None) -> LabelSelector:
    """metav1.LabelSelectorAsSelector: None selects nothing, `{}` selects everything."""
    if spec is None:
        return LabelSelector.nothing()
    match_labels = spec.get("matchLabels") or {}
    expressions = spec.get("matchExpressions") or []
    requirements = [Requirement.new(str(k), EQUALS, [str(v)]) for k, v in match_labels.items()]
    operators = {"In": IN, "NotIn": NOT_IN, "Exists": EXISTS, "DoesNotExist": DOES_NOT_EXIST}
    for expr in expressions:
        op = operators.get(expr.get("operator", ""))
        if op is None:
            raise BadRequest(f'"{expr.get("operator", "")}" is not a valid label selector '
                             "operator")
        requirements.append(Requirement.new(str(expr.get("key", "")), op,
                                            [str(v) for v in expr.get("values") or []]))
    return LabelSelector(requirements)


# -- field selectors (k8s.io/apimachinery/pkg/fields) ---------------------------------------

class FieldRequirement(NamedTuple):
    """`field op value` with op `=` or `!=`; `==` is read as `=`."""

    field: str
    operator: str
    value: str

    def __str__(self) -> str:
        return f"{self.field}{self.operator}{escape_field_value(self.value)}"


def field_value(obj: Mapping[str, Any], path: str) -> str:
    """The string form of `a.b.c` in `obj`: missing is "", booleans are `true`/`false`."""
    current: Any = obj
    for part in path.split("."):
        if not isinstance(current, Mapping):
            return ""
        current = current.get(part)
    if current is None:
        return ""
    if isinstance(current, bool):
        return "true" if current else "false"
    return str(current)


class FieldSelector:
    """A conjunction of field equalities/inequalities (fields.Selector)."""

    __slots__ = ("_requirements",)

    def __init__(self, requirements: Iterable[FieldRequirement] = ()) -> None:
        self._requirements = tuple(sorted(requirements, key=str))

    @property
    def requirements(self) -> list[FieldRequirement]:
        return list(self._requirements)

    @property
    def empty(self) -> bool:
        return not self._requirements

    @property
    def fields(self) -> set[str]:
        return {r.field for r in self._requirements}

    def exact(self, field: str) -> str | None:
        """The value an `=` term pins `field` to (fields.Selector.RequiresExactMatch)."""
        for r in self._requirements:
            if r.field == field and r.operator == EQUALS:
                return r.value
        return None

    def matches(self, obj: Mapping[str, Any]) -> bool:
        for r in self._requirements:
            if (field_value(obj, r.field) == r.value) != (r.operator == EQUALS):
                return False
        return True

    def __str__(self) -> str:
        return ",".join(str(r) for r in self._requirements)

    def __repr__(self) -> str:
        return f"FieldSelector({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FieldSelector):
            return NotImplemented
        return self._requirements == other._requirements

    def __hash__(self) -> int:
        return hash(self._requirements)


def escape_field_value(value: str) -> str:
    """fields.EscapeValue: backslash-escape `\\`, `,` and `=`."""
    return value.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=")


def _unescape_field_value(value: str) -> str:
    """fields.UnescapeValue: reject bad escapes and bare `,`/`=` in a value."""
    out: list[str] = []
    chars = iter(value)
    for ch in chars:
        if ch == "\\":
            nxt = next(chars, "")
            if nxt not in ("\\", ",", "="):
                raise BadRequest(f"invalid field selector: invalid escape sequence: \\{nxt}")
            out.append(nxt)
        elif ch in ",=":
            raise BadRequest(f"invalid field selector: unescaped character in value: {ch}")
        else:
            out.append(ch)
    return "".join(out)


def _split_terms(text: str) -> list[str]:
    """Split on commas not preceded by an escaping backslash."""
    terms, start, escaped = [], 0, False
    for i, ch in enumerate(text):
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == ",":
            terms.append(text[start:i])
            start = i + 1
    terms.append(text[start:])
    return terms


def parse_field_selector(text: str | None) -> FieldSelector:
    """Parse `spec.nodeName=n1,status.phase!=Failed`; empty or None selects everything.

    Whitespace around a term's field and value is dropped (Kubernetes keeps it and
    then rejects the field as unknown; trimming is kinder and loses nothing).
    """
    requirements: list[FieldRequirement] = []
    for term in _split_terms(text or ""):
        if not term.strip():
            continue
        match = re.match(r"(.*?)(!=|==|=)(.*)", term, re.DOTALL)
        field = match.group(1).strip() if match else ""
        if match is None or not field:
            raise BadRequest(f"invalid selector: '{text}'; can't understand '{term}'")
        op = NOT_EQUALS if match.group(2) == "!=" else EQUALS
        requirements.append(FieldRequirement(field, op,
                                             _unescape_field_value(match.group(3).strip())))
    return FieldSelector(requirements)


def validate_field_selector(selector: FieldSelector, allowed: Iterable[str]) -> None:
    """Reject fields the resource cannot select on, with the apiserver's wording."""
    known = {"metadata.name", "metadata.namespace", *allowed}
    for field in sorted(selector.fields):
        if field not in known:
            raise BadRequest(f"field label not supported: {field}")
