"""Product aliases: the names scanners and banners use → the CPE names NVD uses.

A banner says ``Apache httpd``, NVD says ``apache:http_server``; nginx is filed under
``nginx:nginx`` for old records and ``f5:nginx`` for newer ones, so an alias may name
several CPE products and the asset is matched against all of them. Keys are compared
lowercase with runs of spaces, ``_`` and ``-`` folded to one space. An alias may also
fix an attribute the banner implies (``GitLab Community Edition`` → sw_edition
``community``).

Only names listed here (or a vendor+product pair given by the inventory) are matched:
matching on a product name alone would join unrelated vendors' products
(``ibm:http_server`` is not Apache).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from longpan.vuln.cpe import Cpe, quote, unquote


@dataclass(frozen=True)
class Target:
    part: str
    vendor: str
    product: str
    attributes: tuple[tuple[str, str], ...] = ()  # e.g. (("sw_edition", "community"),)

    def cpe(self, version: str, update: str) -> Cpe:
        base = Cpe(self.part, self.vendor, self.product, version, update)
        return base.replace(**dict(self.attributes))


def _t(spec: str, **attributes: str) -> Target:
    part, vendor, product = spec.split(":")
    return Target(part, vendor, product, tuple(sorted(attributes.items())))


HTTPD = (_t("a:apache:http_server"),)
NGINX = (_t("a:f5:nginx"), _t("a:nginx:nginx"), _t("a:igor_sysoev:nginx"))
OPENSSH = (_t("a:openbsd:openssh"),)
TOMCAT = (_t("a:apache:tomcat"),)
MYSQL = (_t("a:oracle:mysql"), _t("a:mysql:mysql"))
CONFLUENCE = (
    _t("a:atlassian:confluence_server"),
    _t("a:atlassian:confluence_data_center"),
    _t("a:atlassian:confluence"),
)
CITRIX_ADC = (
    _t("o:citrix:application_delivery_controller_firmware"),
    _t("a:citrix:netscaler_application_delivery_controller"),
)
CITRIX_GATEWAY = (
    _t("o:citrix:netscaler_gateway_firmware"),
    _t("o:citrix:gateway_firmware"),
    _t("a:citrix:netscaler_gateway"),
)
IVANTI = (_t("a:ivanti:connect_secure"), _t("a:pulsesecure:pulse_connect_secure"))
ELASTICSEARCH = (_t("a:elastic:elasticsearch"), _t("a:elasticsearch:elasticsearch"))

ALIASES: dict[str, tuple[Target, ...]] = {
    "apache httpd": HTTPD,
    "apache http server": HTTPD,
    "apache": HTTPD,
    "httpd": HTTPD,
    "nginx": NGINX,
    "openssh": OPENSSH,
    "apache tomcat": TOMCAT,
    "tomcat": TOMCAT,
    "apache tomcat coyote jsp engine": TOMCAT,
    "apache struts": (_t("a:apache:struts"),),
    "struts": (_t("a:apache:struts"),),
    "apache log4j": (_t("a:apache:log4j"),),
    "mysql": MYSQL,
    "oracle mysql": MYSQL,
    "mariadb": (_t("a:mariadb:mariadb"),),
    "redis": (_t("a:redis:redis"),),
    "redis key value store": (_t("a:redis:redis"),),
    "elasticsearch": ELASTICSEARCH,
    "elasticsearch rest api": ELASTICSEARCH,
    "elastic elasticsearch": ELASTICSEARCH,
    "jenkins": (_t("a:jenkins:jenkins"),),
    "gitlab": (_t("a:gitlab:gitlab"),),
    "gitlab community edition": (_t("a:gitlab:gitlab", sw_edition="community"),),
    "gitlab enterprise edition": (_t("a:gitlab:gitlab", sw_edition="enterprise"),),
    "oracle weblogic server": (_t("a:oracle:weblogic_server"),),
    "oracle weblogic admin httpd": (_t("a:oracle:weblogic_server"),),
    "weblogic": (_t("a:oracle:weblogic_server"),),
    "vmware vcenter server": (_t("a:vmware:vcenter_server"),),
    "vcenter server": (_t("a:vmware:vcenter_server"),),
    "vmware vcenter": (_t("a:vmware:vcenter_server"),),
    "spring cloud function": (_t("a:vmware:spring_cloud_function"),),
    "spring cloud gateway": (_t("a:vmware:spring_cloud_gateway"),),
    "microsoft exchange server": (_t("a:microsoft:exchange_server"),),
    "microsoft exchange": (_t("a:microsoft:exchange_server"),),
    "microsoft exchange smtpd": (_t("a:microsoft:exchange_server"),),
    "microsoft iis httpd": (_t("a:microsoft:internet_information_services"),),
    "fortinet fortios": (_t("o:fortinet:fortios"),),
    "fortios": (_t("o:fortinet:fortios"),),
    "fortigate ssl vpn": (_t("o:fortinet:fortios"),),
    "fortinet fortigate ssl vpn": (_t("o:fortinet:fortios"),),
    "fortinet fortiproxy": (_t("a:fortinet:fortiproxy"),),
    "citrix adc": CITRIX_ADC,
    "citrix netscaler adc": CITRIX_ADC,
    "netscaler adc": CITRIX_ADC,
    "citrix netscaler": CITRIX_ADC,
    "citrix application delivery controller": CITRIX_ADC,
    "citrix gateway": CITRIX_GATEWAY,
    "netscaler gateway": CITRIX_GATEWAY,
    "atlassian confluence": CONFLUENCE,
    "confluence": CONFLUENCE,
    "atlassian confluence server": (_t("a:atlassian:confluence_server"),),
    "atlassian confluence data center": (_t("a:atlassian:confluence_data_center"),),
    "ivanti connect secure": IVANTI,
    "pulse connect secure": IVANTI,
    "pulse secure": IVANTI,
    "thinkphp": (_t("a:thinkphp:thinkphp"),),
    "nonecms": (_t("a:5none:nonecms"),),
    "postfix smtpd": (_t("a:postfix:postfix"),),
    "postfix": (_t("a:postfix:postfix"),),
    "exim smtpd": (_t("a:exim:exim"),),
    "exim": (_t("a:exim:exim"),),
    "vsftpd": (_t("a:beasts:vsftpd"),),
    "php": (_t("a:php:php"),),
    "openssl": (_t("a:openssl:openssl"),),
}


def normalise_name(text: str) -> str:
    return re.sub(r"[\s_\-/]+", " ", text.strip().lower())


def resolve(product: str | None, vendor: str | None = None) -> tuple[Target, ...]:
    """The CPE products a banner's product (and vendor) stand for; () when unknown."""
    if not product:
        return ()
    name = normalise_name(product)
    if vendor:
        both = ALIASES.get(f"{normalise_name(vendor)} {name}")
        if both:
            return both
    if name in ALIASES:
        return ALIASES[name]
    if vendor:  # an inventory that names both is taken at its word
        return (Target("a", quote(vendor), quote(product)),)
    return ()


@lru_cache(maxsize=4096)
def siblings(part: str, vendor: str, product: str) -> frozenset[tuple[str, str, str]]:
    """The CPE products an alias group puts together with this one (itself included)."""
    found = {(part, vendor, product)}
    for group in ALIASES.values():
        names = {(t.part, t.vendor, t.product) for t in group}
        if (part, vendor, product) in names:
            found |= names
    return frozenset(found)


def names_for(products: set[tuple[str, str, str]]) -> set[str]:
    """Every normalised banner name (or ``vendor product``) that may resolve to one of
    ``products``: alias keys, and the CPE names themselves for inventories that give a
    vendor and a product."""
    names = {
        key
        for key, group in ALIASES.items()
        if any((t.part, t.vendor, t.product) in products for t in group)
    }
    for _, vendor, product in products:
        plain_vendor, plain_product = unquote(vendor), unquote(product)
        names.add(normalise_name(plain_product))
        names.add(normalise_name(f"{plain_vendor} {plain_product}"))
    return names
