"""`schooner init`, `schooner join` and `schooner token create|list|delete` (kubeadm's).

`init` runs the control plane as `schooner up` does, reachable on the address given
(`--apiserver-advertise-address`), publishes `kube-public/cluster-info`, makes a
token and prints the `schooner join` line with the CA's hash. `join` is kubeadm's
token discovery (discovery.py), the TLS bootstrap (tlsbootstrap.py), then the agent
and the proxy on this host (services.py). Every failure is one `error:` line and
exit code 1.
"""

from __future__ import annotations

import argparse
import ipaddress
import socket
import subprocess
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer

from apimachinery import bootstraptoken as bt
from apimachinery import errors
from apimachinery.client import Client
from apimachinery.durations import duration
from cli.cluster import local
from cli.cluster.components import cluster_dns, service_cidr
from cli.cluster.layout import InitConfig, Paths, save_init_config, schooner_home
from cli.cluster.supervisor import ClusterError
from cli.cluster.updown import exit_with_error
from cli.commands import CommandError, session_of

from . import services, tlsbootstrap, tokens
from .discovery import JoinError, cluster_of, discover

token_app = typer.Typer(name="token", no_args_is_help=True,
                        help="Bootstrap tokens other hosts join with (kubeadm token).")
HomeOption = Annotated[Path | None, typer.Option(
    "--home", help="State folder (default: $SCHOONER_HOME, else ~/.schooner)",
    show_default=False)]
DEFAULT_CLUSTER_CIDR = InitConfig("").cluster_cidr


def _ttl(text: str) -> timedelta:
    try:
        return timedelta(seconds=duration(text)) if text not in ("0", "0s") else timedelta(0)
    except (ValueError, TypeError, argparse.ArgumentTypeError) as exc:
        raise CommandError(f"--ttl: {exc}") from None


def join_command_line(server: str, token: str, ca_pem: bytes) -> str:
    return (f"schooner join {server} --token {token} "
            f"--discovery-token-ca-cert-hash {bt.ca_cert_hash(ca_pem)}")


def publish_cluster_info(client: Client, server: str, ca_pem: bytes) -> None:
    """kube-public/cluster-info with this server and CA (the bootstrapsigner signs it)."""
    wanted = bt.cluster_info(server, ca_pem)
    try:
        current = client.get("configmaps", bt.CLUSTER_INFO, bt.CLUSTER_INFO_NAMESPACE)
    except errors.NotFound:
        client.create("configmaps", wanted, namespace=bt.CLUSTER_INFO_NAMESPACE)
        return
    if (current.get("data") or {}).get("kubeconfig") != wanted["data"]["kubeconfig"]:
        current["data"] = {**(current.get("data") or {}), **wanted["data"]}
        client.update("configmaps", current)


@token_app.command("create")
def token_create(
        ctx: typer.Context,
        token: Annotated[str | None, typer.Argument(help="the token (default: a new one)")] = None,
        ttl: Annotated[str, typer.Option(help="lifetime (e.g. 2h); 0 never expires")] = "24h",
        usages: Annotated[str, typer.Option(help="authentication,signing")] =
        "authentication,signing",
        groups: Annotated[str, typer.Option(help="extra groups (system:bootstrappers:*)")] =
        bt.DEFAULT_GROUP,
        description: Annotated[str, typer.Option(help="what the token is for")] = "",
        print_join_command: Annotated[bool, typer.Option(
            "--print-join-command", help="print the whole `schooner join` line")] = False,
) -> None:
    """Create a bootstrap token and print it (kubeadm token create)."""
    client = session_of(ctx).client
    try:
        made = tokens.create_token(
            client, token=token, ttl=_ttl(ttl), description=description,
            usages=[u for u in usages.split(",") if u],
            groups=[g for g in groups.split(",") if g])
    except (ValueError, bt.InvalidToken) as exc:
        raise CommandError(str(exc)) from None
    if not print_join_command:
        typer.echo(made.token)
        return
    info = client.get("configmaps", bt.CLUSTER_INFO, bt.CLUSTER_INFO_NAMESPACE)
    server, ca_pem = _cluster_of(info)
    typer.echo(join_command_line(server.removeprefix("https://"), made.token, ca_pem))


def _cluster_of(info: dict[str, object]) -> tuple[str, bytes]:
    data = info.get("data")
    if not isinstance(data, dict) or "kubeconfig" not in data:
        raise CommandError("kube-public/cluster-info holds no kubeconfig: run `schooner init`")
    return cluster_of(str(data["kubeconfig"]))


@token_app.command("list")
def token_list(ctx: typer.Context) -> None:
    """List the bootstrap tokens (kubeadm token list)."""
    rows = [("TOKEN", "EXPIRES", "USAGES", "DESCRIPTION", "EXTRA GROUPS")]
    for found in tokens.list_tokens(session_of(ctx).client):
        expires = found.expiration.strftime("%Y-%m-%dT%H:%M:%SZ") \
            if found.expiration else "<forever>"
        rows.append((found.token, expires, ",".join(sorted(found.usages)),
                     found.description or "<none>", ",".join(found.groups)))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        typer.echo("   ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


@token_app.command("delete")
def token_delete(ctx: typer.Context, token: Annotated[list[str], typer.Argument(
        help="token ids or tokens")]) -> None:
    """Delete bootstrap tokens (kubeadm token delete)."""
    client = session_of(ctx).client
    for each in token:
        try:
            deleted = tokens.delete_token(client, each)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        typer.echo(f'bootstrap token "{deleted}" deleted')


def init_command(
        apiserver_advertise_address: Annotated[str, typer.Option(
            "--apiserver-advertise-address",
            help="the address other hosts reach this control plane on")],
        home: HomeOption = None,
        apiserver_port: Annotated[int | None, typer.Option(
            help="apiserver port (default: as last time, else 6443)")] = None,
        pod_network_cidr: Annotated[str, typer.Option(
            help="the pods' range; each joined host gets a /24 of it")] = DEFAULT_CLUSTER_CIDR,
        token_ttl: Annotated[str, typer.Option(help="the join token's lifetime")] = "24h",
) -> None:
    """Start a control plane other hosts can join, and print how they join (kubeadm init)."""
    try:  # kubeadm's --apiserver-advertise-address is an IP, as the apiserver's flag
        ipaddress.ip_address(apiserver_advertise_address)
    except ValueError:
        raise exit_with_error(ValueError(
            f"--apiserver-advertise-address {apiserver_advertise_address!r}: "
            "not a valid IP address")) from None
    paths = Paths(schooner_home(home))
    paths.home.mkdir(mode=0o700, parents=True, exist_ok=True)
    save_init_config(paths, InitConfig(apiserver_advertise_address, pod_network_cidr))
    try:
        st = local.up(home, apiserver_port=apiserver_port)
        server = f"https://{apiserver_advertise_address}:{st.server.rsplit(':', 1)[1]}"
        with Client.from_kubeconfig(str(paths.kubeconfig)) as client:
            publish_cluster_info(client, server, paths.ca_cert.read_bytes())
            made = tokens.create_token(client, ttl=_ttl(token_ttl))
    except (ClusterError, OSError, errors.APIError, ValueError) as exc:
        raise exit_with_error(exc) from None
    typer.echo("Your Schooner control plane has initialized successfully!\n")
    typer.echo(f"To use it:  export KUBECONFIG={paths.kubeconfig}\n")
    typer.echo("Then you can join any number of hosts by running on each, as root:\n")
    typer.echo("  " + join_command_line(server.removeprefix("https://"), made.token,
                                         paths.ca_cert.read_bytes()))


def join_command(
        server: Annotated[str, typer.Argument(help="the control plane, HOST:PORT")],
        token: Annotated[str, typer.Option("--token", help="a bootstrap token")],
        discovery_token_ca_cert_hash: Annotated[str, typer.Option(
            "--discovery-token-ca-cert-hash", help="sha256:<hex> of the cluster CA's public key")],
        node_name: Annotated[str | None, typer.Option(
            help="this node's name (default: the host name)")] = None,
        node_ip: Annotated[str | None, typer.Option(
            help="this host's address the others reach (default: the one towards SERVER)")]
        = None,
        home: HomeOption = None,
        pod_network_cidr: Annotated[str, typer.Option(
            help="the cluster's pod range (as given to `schooner init`)")] = DEFAULT_CLUSTER_CIDR,
) -> None:
    """Join this host to a cluster as a node (kubeadm join)."""
    node = (node_name or socket.gethostname()).lower()
    try:
        cluster = discover(server, token, discovery_token_ca_cert_hash)
        address = node_ip or local_address_towards(cluster.server)
        files = tlsbootstrap.NodeFiles(schooner_home(home))
        tlsbootstrap.bootstrap(cluster, token, node, address, files)
        components = services.host_components(files, node, address, services.HostNetwork(
            pod_network_cidr, service_cidr(), cluster_dns()))
        if services.has_systemd():
            services.install_units(components)
            how = "systemd units schooner-agent and schooner-proxy"
        else:
            services.start_supervised(files.home, components)
            how = f"processes supervised from {files.home}"
    except (JoinError, ClusterError, OSError, errors.APIError,
            subprocess.CalledProcessError) as exc:
        raise exit_with_error(exc) from None
    typer.echo(f"This host joined the cluster as node {node} ({address}); agent and proxy "
               f"run as {how}.\nRun `schooner get nodes` on the control plane to see it.")


def local_address_towards(server: str) -> str:
    """The address this host uses to reach the apiserver (no packet is sent)."""
    host_port = server.removeprefix("https://").rsplit(":", 1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect((host_port[0].strip("[]"), int(host_port[1]) if len(host_port) > 1
                       else 6443))
        return str(probe.getsockname()[0])


def register(app: typer.Typer) -> None:
    app.add_typer(token_app)
    app.command("init")(init_command)
    app.command("join")(join_command)
