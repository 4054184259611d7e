"""What ``GET /customize`` and ``/api/v2/customize`` answer on the ai generation.

The fields are those of the recorded cocalc-ai hub (``real-ai-transcripts.md``, "GET /customize",
"GET /api/v2/customize"), so a client reading any of them finds it; the values describe this
server. ``configuration.cocalc_product`` is "rocket" with ``is_rocket`` (what cocalc.ai runs, facts
sheet; the recording's "launchpad" was its local set-up). No AI, e-mail sign-up or compute VMs
are offered (all false here). ``dns``, ``siteURL``, ``iframe_comm_hosts``, ``samesite_remember_me``
and the ``is_authenticated``/``is_admin`` pair are filled in per request by ``site_configuration``.
"""

from __future__ import annotations

import copy
import json
from urllib.parse import urlparse

_CUSTOMIZE = json.loads(r'''
{
 "configuration": {
  "dns": "",
  "public_viewer_dns": "",
  "cloudflare_mode": "none",
  "theming": true,
  "site_name": "CoCalc (local)",
  "site_description": "A local cocalc.ai-compatible server (cocalc_magic)",
  "status_page_url": "",
  "help_email": "",
  "policy_pages": "none",
  "terms_of_service_url": "",
  "terms_of_service": "You agree to the <em>Terms of Service</em>.",
  "account_creation_email_instructions": "",
  "sign_in_email_instructions": "",
  "organization_name": "",
  "organization_email": "",
  "organization_url": "",
  "logo_square": "",
  "logo_rectangular": "",
  "splash_image": "",
  "index_info_html": "",
  "index_tagline": "",
  "imprint": "",
  "policies": "",
  "support": "",
  "support_video_call": "",
  "cookie_banner_enabled": false,
  "cookie_banner_text": "We use cookies that are strictly necessary for sign-in and session management. With your consent, we use optional analytics cookies and first-party usage metrics to understand how the site is used. Signed-in users can manage these preferences in Account settings; signed-out visitors can manage cookie choices from the footer.",
  "versions": "",
  "version_min_browser": 0,
  "version_recommended_browser": 0,
  "kucalc": "no",
  "i18n": [
   "en",
   "es",
   "de",
   "zh",
   "ru",
   "fr",
   "it",
   "nl",
   "ja",
   "hi",
   "pt",
   "ko",
   "pl",
   "tr",
   "he",
   "hu",
   "ar",
   "br",
   "eu"
  ],
  "google_analytics": "",
  "ux_latency_telemetry_enabled": true,
  "ux_latency_success_sample_rate": 0.25,
  "commercial": false,
  "datastore": true,
  "onprem_quota_heading": "",
  "default_quotas": {},
  "max_upgrades": {},
  "iframe_comm_hosts": [],
  "email_enabled": false,
  "verify_emails": false,
  "email_authentication_mode": "password_required",
  "email_signup": false,
  "public_signup_without_registration_token": false,
  "legacy_migration_enabled": false,
  "legacy_migration_page_message": "",
  "openai_enabled": false,
  "agent_openai_codex_enabled": false,
  "google_vertexai_enabled": false,
  "mistral_enabled": false,
  "anthropic_enabled": false,
  "ollama_enabled": false,
  "custom_openai_enabled": false,
  "project_hosts_nebius_enabled": false,
  "project_hosts_google-cloud_enabled": false,
  "project_hosts_hyperstack_enabled": false,
  "project_hosts_lambda_enabled": false,
  "project_hosts_local_enabled": false,
  "project_hosts_self_host_alpha_enabled": false,
  "project_hosts_funding_mode": "site-funded",
  "project_hosts_gcp_surcharge_percent": 0,
  "project_hosts_nebius_surcharge_percent": 0,
  "project_hosts_app_public_subdomain_suffix": "app",
  "project_hosts_app_private_hostnames_enabled": false,
  "project_hosts_app_private_hostname_domain": "",
  "project_hosts_app_private_hostname_bay_limit": 3000,
  "launcher_default_quick_create": [
   "chat",
   "ipynb",
   "md",
   "tex",
   "term"
  ],
  "project_rootfs_default_image": "buildpack-deps:26.04",
  "project_rootfs_default_image_gpu": "",
  "project_rootfs_prepull_images": "",
  "samesite_remember_me": "strict",
  "browser_raw_exec_policy": "disabled",
  "zendesk": false,
  "stripe_enabled": false,
  "signup_email_domain_public_policy": {
   "mode": "allow_all"
  },
  "rootfs_scan_enabled": false,
  "country": "XX",
  "cocalc_product": "rocket",
  "is_launchpad": false,
  "is_rocket": true,
  "project_runtime": {
   "mode": "workspace",
   "isolation": "trusted-workspace",
   "trusted": true,
   "label": "Trusted workspace",
   "rootfs": false,
   "host_placement": false,
   "gpu": false,
   "backups": false,
   "snapshots": false,
   "archive": false,
   "move": false,
   "ssh": false,
   "resource_limits": false,
   "cloud_hosts": false
  },
  "compute_vm_enabled": false,
  "launchpad_cloudflare_tunnel_status": {
   "enabled": false,
   "running": false,
   "error": null
  },
  "is_authenticated": false,
  "is_admin": false
 },
 "registration": true,
 "strategies": [],
 "ollama": {},
 "custom_openai": {}
}
''')

_V2 = json.loads(r'''
{
 "siteName": "CoCalc (local)",
 "siteDescription": "A local cocalc.ai-compatible server (cocalc_magic)",
 "organizationName": "",
 "organizationEmail": "",
 "organizationURL": "",
 "policy_pages": "none",
 "termsOfServiceURL": "",
 "helpEmail": "",
 "contactEmail": "",
 "isCommercial": false,
 "stripe_enabled": false,
 "kucalc": "no",
 "emailSignup": false,
 "accountCreationInstructions": "",
 "signInInstructions": "",
 "signupEmailDomainPolicy": {
  "mode": "allow_all"
 },
 "logoSquareURL": "",
 "logoRectangularURL": "",
 "splashImage": "",
 "legacy_migration_enabled": false,
 "legacy_migration_page_message": "",
 "googleAnalytics": "",
 "indexInfo": "",
 "indexTagline": "",
 "imprint": "",
 "policies": "",
 "support": "",
 "supportVideoCall": "",
 "project_hosts_nebius_enabled": false,
 "project_hosts_google-cloud_enabled": false,
 "project_hosts_hyperstack_enabled": false,
 "project_hosts_lambda_enabled": false,
 "project_hosts_local_enabled": false,
 "project_hosts_self_host_alpha_enabled": false,
 "project_hosts_cloudflare_tunnel_enabled": false,
 "dns": "",
 "siteURL": "",
 "zendesk": "",
 "stripePublishableKey": "",
 "reCaptchaKey": "",
 "openaiEnabled": false,
 "googleVertexaiEnabled": false,
 "mistralEnabled": false,
 "anthropicEnabled": false,
 "ollamaEnabled": false,
 "githubProjectId": "",
 "strategies": [],
 "verifyEmailAddresses": false,
 "cookieBannerEnabled": false,
 "cookieBannerText": "We use cookies that are strictly necessary for sign-in and session management. With your consent, we use optional analytics cookies and first-party usage metrics to understand how the site is used. Signed-in users can manage these preferences in Account settings; signed-out visitors can manage cookie choices from the footer.",
 "version": {
  "min_browser": 0,
  "recommended_browser": 0
 }
}
''')


def _hosts(value: str | None) -> list[str]:
    return [h.strip() for h in (value or "").replace(",", " ").split() if h.strip()]


def site_configuration(store, base_url: str, account_id: str | None) -> dict:
    """The ``/customize`` document for this server and the signed-in account (if any)."""
    out = copy.deepcopy(_CUSTOMIZE)
    conf = out["configuration"]
    dns = urlparse(base_url).netloc if base_url else ""
    conf.update(
        dns=dns, public_viewer_dns=dns,
        site_name=store.setting("site_name") or conf["site_name"],
        iframe_comm_hosts=_hosts(store.setting("iframe_comm_hosts")),
        samesite_remember_me=store.setting("samesite_remember_me") or conf["samesite_remember_me"],
        is_authenticated=bool(account_id), is_admin=bool(account_id) and store.is_admin(account_id),
    )
    return out


def v2_customize(store, base_url: str, fields=None) -> dict:
    """``/api/v2/customize`` (``getCustomize(fields)``): all fields, or the listed ones."""
    out = copy.deepcopy(_V2)
    out.update(siteName=store.setting("site_name") or out["siteName"], siteURL=base_url,
               dns=urlparse(base_url).netloc if base_url else "")
    if isinstance(fields, list):
        return {k: v for k, v in out.items() if k in fields}
    return out
