"""Label and field selectors: Kubernetes' syntax, canonical printing, matching, errors."""

from __future__ import annotations

from typing import Any

import pytest

from apimachinery import errors
from apimachinery.selectors import (
    FieldRequirement,
    FieldSelector,
    LabelSelector,
    Requirement,
    field_value,
    parse_field_selector,
    parse_label_selector,
    selector_from_dict,
    validate_field_selector,
)

# -- label selector syntax -------------------------------------------------------------------


@pytest.mark.parametrize(("text", "canonical"), [
    ("app=web", "app=web"),
    ("app==web", "app=web"),
    ("app!=web", "app!=web"),
    ("tier in (b,a)", "tier in (a,b)"),
    ("tier notin (a, b ,a)", "tier notin (a,b)"),
    ("app", "app"),
    ("!legacy", "!legacy"),
    ("  tier in(a) ,  app = web ,!legacy ", "app=web,!legacy,tier in (a)"),
    ("example.com/role=db,x=", "example.com/role=db,x="),
    ("a in (,)", "a in ()"),
    ("a in (x,,y)", "a in (,x,y)"),
    ("in=notin", "in=notin"),
])
def test_label_selector_round_trips_to_canonical_form(text: str, canonical: str) -> None:
    selector = parse_label_selector(text)
    assert str(selector) == canonical
    assert parse_label_selector(canonical) == selector


def test_requirements_are_sorted_by_key_with_sorted_values() -> None:
    selector = parse_label_selector("tier in (b,a),app=web,!legacy")
    assert selector.requirements == [
        Requirement("app", "=", ("web",)),
        Requirement("legacy", "!", ()),
        Requirement("tier", "in", ("a", "b")),
    ]


@pytest.mark.parametrize("text", [None, "", "   "])
def test_empty_text_selects_everything(text: str | None) -> None:
    selector = parse_label_selector(text)
    assert selector.empty
    assert selector.matches({}) and selector.matches(None) and selector.matches({"a": "b"})
    assert str(selector) == ""


@pytest.mark.parametrize(("text", "message"), [
    ("a=(", "unable to parse requirement: found '(', expected: identifier"),
    ("a in b", "unable to parse requirement: found 'b', expected: '('"),
    ("a in (b c)", "unable to parse requirement: found 'c', expected: ',' or ')'"),
    ("a in (b", "unable to parse requirement: found '', expected: ',' or ')'"),
    ("a b", "unable to parse requirement: found 'b', expected: =, !=, ==, in, notin"),
    ("a>1", "unable to parse requirement: found '>', expected: =, !=, ==, in, notin"),
    ("!a=b", "found '=', expected: ',' or 'end of string'"),
    ("a=b=c", "found '=', expected: ',' or 'end of string'"),
    ("a,", "found '', expected: identifier after ','"),
    (",a", "found ',', expected: !, identifier, or 'end of string'"),
    ("=a", "found '=', expected: !, identifier, or 'end of string'"),
])
def test_bad_label_syntax_names_the_offending_token(text: str, message: str) -> None:
    with pytest.raises(errors.BadRequest) as info:
        parse_label_selector(text)
    assert info.value.message == message
    assert info.value.code == 400


@pytest.mark.parametrize(("text", "fragment"), [
    ("-a=b", 'invalid label key "-a"'),
    ("a_=b", 'invalid label key "a_"'),
    ("/a=b", "prefix part must be non-empty"),
    ("a/=b", "name part must be non-empty"),
    ("Example.com/a=b", "prefix part must be a lowercase RFC 1123 subdomain"),
    ("a" * 64 + "=b", "name part must be no more than 63 characters"),
    ("a=" + "b" * 64, "must be no more than 63 characters"),
    ("a=-b", 'invalid label value: "-b": at key: "a"'),
    ("a in (ok,bad.)", 'invalid label value: "bad."'),
])
def test_keys_and_values_are_validated(text: str, fragment: str) -> None:
    with pytest.raises(errors.BadRequest, match="unable to parse requirement") as info:
        parse_label_selector(text)
    assert fragment in info.value.message


def test_longest_valid_key_and_value_are_accepted() -> None:
    key, value = "k" * 63, "v" * 63
    assert parse_label_selector(f"{key}={value}").matches({key: value})
    assert parse_label_selector("A-b_c.D=x_Y-z.9").matches({"A-b_c.D": "x_Y-z.9"})


# -- label matching --------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "labels", "expected"), [
    ("app=web", {"app": "web"}, True),
    ("app=web", {"app": "db"}, False),
    ("app=web", {}, False),
    ("app!=web", {"app": "db"}, True),
    ("app!=web", {}, True),  # an absent key satisfies !=, as in Kubernetes
    ("app!=web", {"app": "web"}, False),
    ("tier in (a,b)", {"tier": "b"}, True),
    ("tier in (a,b)", {}, False),
    ("tier notin (a,b)", {"tier": "c"}, True),
    ("tier notin (a,b)", {}, True),
    ("tier notin (a,b)", {"tier": "a"}, False),
    ("app", {"app": ""}, True),
    ("app", {}, False),
    ("!app", {}, True),
    ("!app", {"app": "x"}, False),
    ("x=", {"x": ""}, True),
    ("x=", {}, False),
    ("app=web,!legacy", {"app": "web", "legacy": "1"}, False),
    ("app=web,!legacy", {"app": "web", "other": "1"}, True),
])
def test_label_matching(text: str, labels: dict[str, str], expected: bool) -> None:
    assert parse_label_selector(text).matches(labels) is expected


# -- metav1.LabelSelector --------------------------------------------------------------------

def test_nil_selector_matches_nothing_and_empty_matches_everything() -> None:
    nothing = selector_from_dict(None)
    assert not nothing.matches({}) and not nothing.matches({"a": "b"})
    assert not nothing.empty and nothing.is_nothing
    assert str(nothing) == ""
    assert nothing == LabelSelector.nothing() != LabelSelector.everything()

    everything = selector_from_dict({})
    assert everything.empty and everything.matches({"a": "b"})
    assert selector_from_dict({"matchLabels": {}, "matchExpressions": []}).empty


def test_match_labels_and_expressions_combine() -> None:
    selector = selector_from_dict({
        "matchLabels": {"app": "web"},
        "matchExpressions": [
            {"key": "tier", "operator": "In", "values": ["b", "a"]},
            {"key": "env", "operator": "NotIn", "values": ["prod"]},
            {"key": "team", "operator": "Exists"},
            {"key": "legacy", "operator": "DoesNotExist", "values": []},
        ],
    })
    assert str(selector) == "app=web,env notin (prod),!legacy,team,tier in (a,b)"
    assert selector.matches({"app": "web", "tier": "a", "team": "x"})
    assert not selector.matches({"app": "web", "tier": "a"})
    assert not selector.matches({"app": "web", "tier": "a", "team": "x", "env": "prod"})
    assert selector == parse_label_selector(str(selector))


@pytest.mark.parametrize(("spec", "fragment"), [
    ({"matchExpressions": [{"key": "a", "operator": "Gt", "values": ["1"]}]},
     '"Gt" is not a valid label selector operator'),
    ({"matchExpressions": [{"key": "a", "operator": "In", "values": []}]},
     "values set can't be empty"),
    ({"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]},
     "values set must be empty"),
    ({"matchExpressions": [{"key": "a", "operator": "NotIn"}]}, "values set can't be empty"),
    ({"matchLabels": {"bad key": "x"}}, 'invalid label key "bad key"'),
    ({"matchLabels": {"a": "bad value"}}, 'invalid label value: "bad value"'),
])
def test_invalid_structured_selectors_are_bad_requests(spec: dict[str, Any],
                                                        fragment: str) -> None:
    with pytest.raises(errors.BadRequest) as info:
        selector_from_dict(spec)
    assert fragment in info.value.message


def test_requirement_new_checks_exact_match_arity() -> None:
    with pytest.raises(errors.BadRequest, match="requires one single value"):
        Requirement.new("a", "=", ["x", "y"])
    with pytest.raises(errors.BadRequest, match="requires one single value"):
        Requirement.new("a", "!=", [])


def test_selectors_are_hashable_values() -> None:
    a, b = parse_label_selector("b=1,a=2"), parse_label_selector("a=2, b==1")
    assert a == b and hash(a) == hash(b)
    assert len({a, b, LabelSelector.nothing()}) == 2


# -- field selectors -------------------------------------------------------------------------

POD: dict[str, Any] = {
    "metadata": {"name": "web-1", "namespace": "default"},
    "spec": {"nodeName": "n1", "restartPolicy": "Always"},
    "status": {"phase": "Running"},
}


def test_field_selector_parses_terms_sorted() -> None:
    selector = parse_field_selector("status.phase!=Failed,spec.nodeName==n1")
    assert selector.requirements == [
        FieldRequirement("spec.nodeName", "=", "n1"),
        FieldRequirement("status.phase", "!=", "Failed"),
    ]
    assert str(selector) == "spec.nodeName=n1,status.phase!=Failed"
    assert selector.fields == {"spec.nodeName", "status.phase"}
    field, op, value = selector.requirements[0]
    assert (field, op, value) == ("spec.nodeName", "=", "n1")


@pytest.mark.parametrize(("text", "expected"), [
    ("spec.nodeName=n1", True),
    ("spec.nodeName=n2", False),
    ("spec.nodeName!=n2", True),
    ("metadata.name=web-1,metadata.namespace=default", True),
    ("metadata.name=web-1,status.phase!=Running", False),
    ("spec.schedulerName=", True),  # a missing field reads as the empty string
    ("spec.schedulerName!=", False),
    ("spec.nodeName.deeper=", True),  # walking through a string yields ""
    ("", True),
])
def test_field_matching(text: str, expected: bool) -> None:
    assert parse_field_selector(text).matches(POD) is expected


def test_field_values_render_like_kubernetes() -> None:
    node = {"spec": {"unschedulable": True, "replicas": 3}, "status": None}
    assert field_value(node, "spec.unschedulable") == "true"
    assert field_value({"spec": {"unschedulable": False}}, "spec.unschedulable") == "false"
    assert field_value(node, "spec.replicas") == "3"
    assert field_value(node, "status.phase") == ""
    assert parse_field_selector("spec.unschedulable=true").matches(node)
    assert parse_field_selector("spec.unschedulable!=true").matches({"spec": {}})


def test_exact_returns_the_pinned_value_only_for_equality() -> None:
    selector = parse_field_selector("metadata.name=web-1,spec.nodeName!=n1")
    assert selector.exact("metadata.name") == "web-1"
    assert selector.exact("spec.nodeName") is None
    assert selector.exact("status.phase") is None


def test_field_values_escape_commas_and_equals() -> None:
    selector = parse_field_selector(r"metadata.name=a\,b\=c\\d,spec.nodeName=n1")
    assert selector.exact("metadata.name") == "a,b=c\\d"
    assert selector.exact("spec.nodeName") == "n1"
    assert str(selector) == r"metadata.name=a\,b\=c\\d,spec.nodeName=n1"
    assert parse_field_selector(str(selector)) == selector


def test_field_selector_tolerates_whitespace_and_empty_terms() -> None:
    selector = parse_field_selector(" spec.nodeName = n1 ,, ")
    assert selector == FieldSelector([FieldRequirement("spec.nodeName", "=", "n1")])
    assert parse_field_selector(None).empty and parse_field_selector("").empty


@pytest.mark.parametrize(("text", "fragment"), [
    ("spec.nodeName", "can't understand 'spec.nodeName'"),
    ("=n1", "can't understand '=n1'"),
    ("a=b=c", "unescaped character in value: ="),
    (r"a=b\x", r"invalid escape sequence: \x"),
    ("a=b\\", "invalid escape sequence"),
])
def test_bad_field_syntax_is_a_bad_request(text: str, fragment: str) -> None:
    with pytest.raises(errors.BadRequest) as info:
        parse_field_selector(text)
    assert fragment in info.value.message


def test_validate_field_selector_allows_metadata_and_listed_fields() -> None:
    selector = parse_field_selector("metadata.name=a,metadata.namespace=b,spec.nodeName=c")
    validate_field_selector(selector, ["spec.nodeName"])
    with pytest.raises(errors.BadRequest) as info:
        validate_field_selector(selector, ())
    assert info.value.message == "field label not supported: spec.nodeName"
