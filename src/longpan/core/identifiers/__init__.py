"""Parsing and validation of Chinese and Internet identifiers.

Every parser raises ``longpan.core.errors.IdentifierError`` with a specific
reason for malformed input.
"""

from longpan.core.identifiers.domain import (
    canonical_domain,
    is_within,
    registered_domain,
    to_unicode,
)
from longpan.core.identifiers.icp import (
    IcpNumber,
    find_icp_numbers,
    parse_icp,
    parse_service_licence,
    parse_subject_licence,
)
from longpan.core.identifiers.ip import (
    IPAddress,
    IPNetwork,
    IpRange,
    canonical_ip,
    format_ip,
    ip_key,
    key_ip,
    parse_ip,
    parse_range,
)
from longpan.core.identifiers.uscc import (
    is_uscc,
    make_uscc,
    org_code_check_digit,
    parse_uscc,
    uscc_check_char,
)

__all__ = [
    "IPAddress",
    "IPNetwork",
    "IcpNumber",
    "IpRange",
    "canonical_domain",
    "canonical_ip",
    "find_icp_numbers",
    "format_ip",
    "ip_key",
    "is_uscc",
    "is_within",
    "key_ip",
    "make_uscc",
    "org_code_check_digit",
    "parse_icp",
    "parse_ip",
    "parse_range",
    "parse_service_licence",
    "parse_subject_licence",
    "parse_uscc",
    "registered_domain",
    "to_unicode",
    "uscc_check_char",
]
