"""The password gate: with ``V6_DASHBOARD_PASSWORD`` set, every session logs in first.

The entered password is compared in constant time (``hmac.compare_digest``), so the time a
wrong guess takes tells nothing about how much of it was right.
"""

from __future__ import annotations

import hmac
from typing import Final

import streamlit as st
from pydantic import SecretStr

AUTH_KEY: Final = "v6_authenticated"


def password_matches(entered: str, password: SecretStr) -> bool:
    return hmac.compare_digest(entered.encode(), password.get_secret_value().encode())


def require_login(password: SecretStr | None) -> bool:
    """True when this session may see the pages: no password is set, or it logged in.
    Otherwise shows the login form and returns False."""
    if password is None or st.session_state.get(AUTH_KEY, False):
        return True
    st.title("V6 dashboard")
    with st.form("login"):
        entered = st.text_input("Password", type="password", key="login_password")
        submitted = st.form_submit_button("Log in", type="primary")
    if submitted:
        if password_matches(entered, password):
            st.session_state[AUTH_KEY] = True
            st.rerun()
        st.error("Wrong password.", icon=":material/lock:")
    return False


def logout() -> None:
    st.session_state[AUTH_KEY] = False
