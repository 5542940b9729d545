"""Building blocks of validation: field errors, paths and Kubernetes' format checks.

The error builders mirror `k8s.io/apimachinery/pkg/util/validation/field`
(`Invalid`, `Required`, `NotSupported`, `Duplicate`, `Forbidden`, `TooLong`,
`NotFound`) so messages read exactly like the real apiserver's:
`spec.replicas: Invalid value: -1: must be greater than or equal to 0`. The
format checks mirror `k8s.io/apimachinery/pkg/util/validation` and return the
same messages, one string per problem.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable, Iterable
from typing import Any, TypeGuard, TypeVar

from apimachinery.errors import FieldError

Errs = list[FieldError]

# -- paths and values -------------------------------------------------------------


def child(path: str, name: str) -> str:
    """`spec` + `replicas` -> `spec.replicas`; a root path just gives the name."""
    return f"{path}.{name}" if path else name


def is_int(value: Any) -> TypeGuard[int]:
    """A JSON integer (bool is an int to Python, never to Kubernetes)."""
    return isinstance(value, int) and not isinstance(value, bool)


def dict_items(value: Any) -> list[tuple[int, dict[str, Any]]]:
    """(index, item) for the dict items of a list; wrong types are the type pass's to report."""
    if not isinstance(value, list):
        return []
    return [(i, item) for i, item in enumerate(value) if isinstance(item, dict)]


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def render(value: Any) -> str:
    """A value as Kubernetes prints it in an error: strings quoted, numbers bare."""
    if value is None:
        return '"null"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, separators=(",", ":"), sort_keys=isinstance(value, dict),
                      ensure_ascii=False, default=str)


# -- error builders (field.Invalid, field.Required, ...) --------------------------


def invalid(path: str, value: Any, detail: str) -> FieldError:
    return FieldError(path, f"Invalid value: {render(value)}: {detail}", value)


def type_invalid(path: str, value: Any, detail: str) -> FieldError:
    return FieldError(path, f"Invalid value: {render(value)}: {detail}", value,
                      "FieldValueTypeInvalid")


def required(path: str, detail: str = "") -> FieldError:
    message = f"Required value: {detail}" if detail else "Required value"
    return FieldError(path, message, None, "FieldValueRequired")


def not_supported(path: str, value: Any, supported: Iterable[str]) -> FieldError:
    quoted = ", ".join(json.dumps(s) for s in supported)
    return FieldError(path, f"Unsupported value: {render(value)}: supported values: {quoted}",
                      value, "FieldValueNotSupported")


def duplicate(path: str, value: Any) -> FieldError:
    return FieldError(path, f"Duplicate value: {render(value)}", value, "FieldValueDuplicate")


def forbidden(path: str, detail: str) -> FieldError:
    return FieldError(path, f"Forbidden: {detail}", None, "FieldValueForbidden")


def too_long(path: str, max_bytes: int) -> FieldError:
    return FieldError(path, f"Too long: may not be more than {max_bytes} bytes", None,
                      "FieldValueTooLong")


def too_many(path: str, actual: int, maximum: int) -> FieldError:
    """field.TooMany: a list longer than its limit."""
    return FieldError(path, f"Too many: {actual}: must have at most {maximum} items", actual,
                      "FieldValueTooMany")


def not_found(path: str, value: Any) -> FieldError:
    return FieldError(path, f"Not found: {render(value)}", value, "FieldValueNotFound")


_V = TypeVar("_V")


def check(path: str, value: _V, checker: Callable[[_V], list[str]]) -> Errs:
    """One `Invalid` error per message the format checker returns."""
    return [invalid(path, value, msg) for msg in checker(value)]


def non_negative(path: str, value: Any) -> Errs:
    """ValidateNonnegativeField."""
    if is_int(value) and value < 0:
        return [invalid(path, value, "must be greater than or equal to 0")]
    return []


# -- format checks (k8s.io/apimachinery/pkg/util/validation) ----------------------


def regex_error(msg: str, fmt: str, *examples: str) -> str:
    """validation.RegexError, double space after each example's comma included."""
    shown = " or ".join(f"'{e}', " for e in examples)
    return f"{msg} (e.g. {shown}regex used for validation is '{fmt}')"


def _max_len(n: int) -> str:
    return f"must be no more than {n} characters"


_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_SUBDOMAIN_FMT = _LABEL_FMT + r"(\." + _LABEL_FMT + ")*"
_DNS1035_FMT = "[a-z]([-a-z0-9]*[a-z0-9])?"
_QNAME_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_LABEL_VALUE_FMT = f"({_QNAME_FMT})?"
_ENV_FMT = "[-._a-zA-Z][-._a-zA-Z0-9]*"
_CONFIG_KEY_FMT = "[-._a-zA-Z0-9]+"
PERCENT_FMT = "[0-9]+%"

_QNAME_MSG = ("must consist of alphanumeric characters, '-', '_' or '.', and must start "
              "and end with an alphanumeric character")


def dns1123_label(value: str) -> list[str]:
    """IsDNS1123Label: namespaces, container, volume and port names."""
    errs = [_max_len(63)] if len(value) > 63 else []
    if not re.fullmatch(_LABEL_FMT, value):
        errs.append(regex_error(
            "a lowercase RFC 1123 label must consist of lower case alphanumeric characters "
            "or '-', and must start and end with an alphanumeric character",
            _LABEL_FMT, "my-name", "123-abc"))
    return errs


def dns1123_subdomain(value: str) -> list[str]:
    """IsDNS1123Subdomain: the names of most objects."""
    errs = [_max_len(253)] if len(value) > 253 else []
    if not re.fullmatch(_SUBDOMAIN_FMT, value):
        errs.append(regex_error(
            "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
            "characters, '-' or '.', and must start and end with an alphanumeric character",
            _SUBDOMAIN_FMT, "example.com"))
    return errs


def dns1035_label(value: str) -> list[str]:
    """IsDNS1035Label: Service names, which become DNS names and env var prefixes."""
    errs = [_max_len(63)] if len(value) > 63 else []
    if not re.fullmatch(_DNS1035_FMT, value):
        errs.append(regex_error(
            "a DNS-1035 label must consist of lower case alphanumeric characters or '-', "
            "start with an alphabetic character, and end with an alphanumeric character",
            _DNS1035_FMT, "my-name", "abc-123"))
    return errs


def qualified_name(value: str) -> list[str]:
    """IsQualifiedName: label and annotation keys, `example.com/name` or `name`."""
    parts = value.split("/")
    if len(parts) > 2:
        shape = regex_error(_QNAME_MSG, _QNAME_FMT, "MyName", "my.name", "123-abc")
        return [f"a qualified name {shape} with an optional DNS subdomain prefix and '/' "
                "(e.g. 'example.com/MyName')"]
    errs: list[str] = []
    name = parts[-1]
    if len(parts) == 2:
        prefix = parts[0]
        if not prefix:
            errs.append("prefix part must be non-empty")
        else:
            errs.extend(f"prefix part {m}" for m in dns1123_subdomain(prefix))
    if not name:
        errs.append("name part must be non-empty")
    elif len(name) > 63:
        errs.append(f"name part {_max_len(63)}")
    if name and not re.fullmatch(_QNAME_FMT, name):
        errs.append("name part " + regex_error(_QNAME_MSG, _QNAME_FMT,
                                                "MyName", "my.name", "123-abc"))
    return errs


def label_value(value: str) -> list[str]:
    """IsValidLabelValue: empty, or a qualified name's name part."""
    errs = [_max_len(63)] if len(value) > 63 else []
    if not re.fullmatch(_LABEL_VALUE_FMT, value):
        errs.append(regex_error(
            "a valid label must be an empty string or consist of alphanumeric characters, "
            "'-', '_' or '.', and must start and end with an alphanumeric character",
            _LABEL_VALUE_FMT, "MyValue", "my_value", "12345"))
    return errs


def port_name(value: str) -> list[str]:
    """IsValidPortName: an IANA_SVC_NAME such as `http` or `metrics-2`."""
    errs = [_max_len(15)] if len(value) > 15 else []
    if not re.fullmatch("[-a-z0-9]+", value):
        errs.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
    if not re.search("[a-z]", value):
        errs.append("must contain at least one letter (a-z)")
    if "--" in value:
        errs.append("must not contain consecutive hyphens (-)")
    if value.startswith("-") or value.endswith("-"):
        errs.append("must not begin or end with a hyphen (-)")
    return errs


def port_number(value: int) -> list[str]:
    """IsValidPortNum."""
    return [] if 1 <= value <= 65535 else ["must be between 1 and 65535, inclusive"]


def _dot_prefix(value: str) -> list[str]:
    if value == ".":
        return ["must not be '.'"]
    if value == "..":
        return ["must not be '..'"]
    return ["must not start with '..'"] if value.startswith("..") else []


def env_var_name(value: str) -> list[str]:
    """IsEnvVarName."""
    errs: list[str] = []
    if not re.fullmatch(_ENV_FMT, value):
        errs.append(regex_error(
            "a valid environment variable name must consist of alphabetic characters, "
            "digits, '_', '-', or '.', and must not start with a digit",
            _ENV_FMT, "my.env-name", "MY_ENV.NAME", "MyEnvName1"))
    return errs + _dot_prefix(value)


def config_key(value: str) -> list[str]:
    """IsConfigMapKey: keys of ConfigMap and Secret data."""
    errs = [_max_len(253)] if len(value) > 253 else []
    if not re.fullmatch(_CONFIG_KEY_FMT, value):
        errs.append(regex_error(
            "a valid config key must consist of alphanumeric characters, '-', '_' or '.'",
            _CONFIG_KEY_FMT, "key.name", "KEY_NAME", "key-name"))
    return errs + _dot_prefix(value)


def ip_address(value: str) -> list[str]:
    """IsValidIP."""
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return ["must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"]
    return []


def port_num_or_name(path: str, value: Any) -> Errs:
    """ValidatePortNumOrName: an IntOrString port (`targetPort`, a probe's `port`)."""
    if is_int(value):
        return check(path, value, port_number)
    if isinstance(value, str):
        if not value:
            return [required(path)]
        return check(path, value, port_name)
    return []


# -- labels, annotations and selectors --------------------------------------------

MAX_ANNOTATIONS_BYTES = 256 * 1024


def validate_labels(labels: Any, path: str) -> Errs:
    """ValidateLabels: qualified-name keys, label-value values, all errors on `path`."""
    errs: Errs = []
    for key, value in as_dict(labels).items():
        errs += check(path, key, qualified_name)
        if isinstance(value, str):
            errs += check(path, value, label_value)
    return errs


def validate_annotations(annotations: Any, path: str) -> Errs:
    """ValidateAnnotations: qualified-name keys and at most 256 KiB in total."""
    errs: Errs = []
    total = 0
    for key, value in as_dict(annotations).items():
        errs += check(path, key, lambda k: qualified_name(k.lower()))
        total += len(key.encode()) + (len(value.encode()) if isinstance(value, str) else 0)
    if total > MAX_ANNOTATIONS_BYTES:
        errs.append(too_long(path, MAX_ANNOTATIONS_BYTES))
    return errs


SELECTOR_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")


def validate_requirement(req: dict[str, Any], path: str, *,
                         operators: tuple[str, ...] = SELECTOR_OPERATORS) -> Errs:
    """One `matchExpressions` entry: the operator and whether `values` may be given."""
    errs: Errs = []
    key, op, values = req.get("key"), req.get("operator"), req.get("values")
    if isinstance(key, str):
        errs += check(child(path, "key"), key, qualified_name)
    has_values = isinstance(values, list) and len(values) > 0
    if op in ("In", "NotIn") and not has_values:
        errs.append(required(child(path, "values"),
                             "must be specified when `operator` is 'In' or 'NotIn'"))
    elif op in ("Exists", "DoesNotExist") and has_values:
        errs.append(forbidden(child(path, "values"),
                              "may not be specified when `operator` is 'Exists' or "
                              "'DoesNotExist'"))
    elif op in ("Gt", "Lt") and op in operators:
        if not (isinstance(values, list) and len(values) == 1):
            errs.append(required(child(path, "values"),
                                 "must be specified single value when `operator` is 'Lt' or 'Gt'"))
        elif isinstance(values[0], str) and not re.fullmatch(r"[+-]?[0-9]+", values[0]):
            errs.append(invalid(f"{child(path, 'values')}[0]", values[0], "must be an integer"))
    if isinstance(op, str) and op not in operators:
        errs.append(invalid(child(path, "operator"), op, "not a valid selector operator"))
    return errs


def validate_label_selector(selector: Any, path: str) -> Errs:
    """ValidateLabelSelector: matchLabels as labels, each requirement well formed."""
    if not isinstance(selector, dict):
        return []
    errs = validate_labels(selector.get("matchLabels"), child(path, "matchLabels"))
    for i, req in dict_items(selector.get("matchExpressions")):
        errs += validate_requirement(req, f"{child(path, 'matchExpressions')}[{i}]")
    return errs


def selector_is_empty(selector: dict[str, Any]) -> bool:
    return not selector.get("matchLabels") and not selector.get("matchExpressions")


def selector_is_well_typed(selector: dict[str, Any]) -> bool:
    """Whether matching can be attempted (the type pass reports any other shape)."""
    match_labels = selector.get("matchLabels")
    if match_labels is not None and not (
            isinstance(match_labels, dict)
            and all(isinstance(v, str) for v in match_labels.values())):
        return False
    expressions = selector.get("matchExpressions")
    if expressions is None:
        return True
    return isinstance(expressions, list) and all(
        isinstance(req, dict) and isinstance(req.get("key"), str)
        and isinstance(req.get("operator"), str)
        and (req.get("values") is None or (isinstance(req["values"], list) and all(
            isinstance(v, str) for v in req["values"])))
        for req in expressions)


def selector_matches(selector: dict[str, Any], labels: dict[str, Any]) -> bool:
    """Whether `labels` satisfy a metav1.LabelSelector (matchLabels AND expressions)."""
    for name, value in as_dict(selector.get("matchLabels")).items():
        if labels.get(name) != value:
            return False
    for _, req in dict_items(selector.get("matchExpressions")):
        key: Any = req.get("key")  # None is in no labels
        op = req.get("operator")
        values = req["values"] if isinstance(req.get("values"), list) else []
        present = key in labels
        if ((op == "In" and not (present and labels[key] in values))
                or (op == "NotIn" and present and labels[key] in values)
                or (op == "Exists" and not present)
                or (op == "DoesNotExist" and present)):
            return False
    return True


PROTOCOLS = ("SCTP", "TCP", "UDP")


def port_protocol(port: dict[str, Any], path: str) -> Errs:
    """A port's `protocol`: absent, or one of Kubernetes' three; never empty."""
    protocol = port.get("protocol")
    if protocol == "":
        return [required(child(path, "protocol"))]
    if isinstance(protocol, str) and protocol not in PROTOCOLS:
        return [not_supported(child(path, "protocol"), protocol, PROTOCOLS)]
    return []


def unique_label(path: str, name: str, seen: set[str]) -> Errs:
    """A name that must be a DNS-1123 label and unique among its siblings (containers,
    volumes, Service and Endpoints ports); records it in `seen`."""
    errs = check(path, name, dns1123_label)
    if name in seen:
        errs.append(duplicate(path, name))
    seen.add(name)
    return errs

