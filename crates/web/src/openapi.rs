//! The OpenAPI 3.1 document, generated from the handlers' annotations.

use crate::routes::{admin, agents, auth, bot, chat, contacts, files, inbox, kb, library, live, me, portal, shield};
use axum::Json;
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(title = "Kefu API", description = "Customer support for cryptocurrency exchanges. Errors are RFC 9457 problem+json with a stable `code`. \
        Authenticate with the session cookie (writes then need `X-CSRF-Token`) or `Authorization: Bearer kefu_…`. \
        Creates accept an `Idempotency-Key` header."),
    paths(
        auth::login, auth::login_totp, auth::session, auth::logout,
        me::change_password, me::enrol_2fa, me::confirm_2fa, me::disable_2fa, me::regenerate_recovery,
        me::list_sessions, me::revoke_session, me::list_tokens, me::create_token, me::revoke_token,
        agents::list, agents::create, agents::get, agents::update, agents::reset_2fa, agents::unlock, agents::revoke_sessions,
        admin::audit, admin::get_security, admin::put_security, admin::ip_lockouts, admin::lift_ip_lockout,
        admin::get_api_channel, admin::put_api_channel, admin::get_portal, admin::put_portal, admin::get_retention, admin::put_retention,
        inbox::list, inbox::create, inbox::get, inbox::update, inbox::timeline, inbox::post_message, inbox::merge, inbox::bulk,
        inbox::counts, inbox::tags, inbox::presence, inbox::viewers, inbox::search, live::events, live::agent_ws,
        contacts::list, contacts::create, contacts::get, contacts::update, contacts::merge, contacts::conversations, contacts::reveal,
        contacts::export, contacts::erase,
        library::list_teams, library::create_team, library::update_team, library::delete_team,
        library::list_canned, library::create_canned, library::update_canned, library::delete_canned, library::render_canned,
        library::list_macros, library::create_macro, library::update_macro, library::delete_macro, library::apply_macro,
        library::list_views, library::create_view, library::delete_view,
        library::notifications, library::read_notification, library::read_all_notifications,
        files::upload, files::download, files::thumbnail, files::portal_upload, files::portal_download, files::portal_thumbnail,
        portal::open_ticket, portal::sign_in, portal::session, portal::sign_out, portal::tickets, portal::ticket, portal::reply,
        chat::widget, chat::ws, chat::get_settings, chat::put_settings, chat::agent_read, chat::upload, chat::download,
        chat::thumbnail, chat::demo_identity,
        kb::list_articles, kb::create_article, kb::get_article, kb::update_article, kb::delete_article, kb::versions, kb::preview,
        kb::agent_search, kb::list_categories, kb::create_category, kb::update_category, kb::delete_category,
        kb::get_synonyms, kb::put_synonyms, kb::analytics, kb::reindex,
        kb::public_search, kb::public_article, kb::public_categories, kb::feedback, kb::feedback_comment, kb::click,
        bot::get_settings, bot::put_settings, bot::classify, bot::try_bot, bot::list_examples, bot::add_example, bot::delete_example,
        bot::train, bot::analytics,
        shield::get_settings, shield::put_settings, shield::verify, shield::identity_checks, shield::start_identity_check,
        portal::answer_check,
    ),
    modifiers(&ProblemResponses),
    tags(
        (name = "auth", description = "Signing in and out"),
        (name = "me", description = "The signed-in agent's own account"),
        (name = "agents", description = "The support team"),
        (name = "admin", description = "Audit log and settings"),
        (name = "inbox", description = "Conversations (tickets), messages, views, search and the live feed"),
        (name = "contacts", description = "Customers and their channel identities"),
        (name = "teams", description = "Teams of agents"),
        (name = "canned", description = "Canned responses"),
        (name = "macros", description = "Macros: several actions at once"),
        (name = "attachments", description = "Files on messages"),
        (name = "portal", description = "The customer ticket portal (portal cookie; writes need `X-Kefu-Portal: 1`)"),
        (name = "help center", description = "Help-center articles, categories, synonyms and analytics, for agents"),
        (name = "help center (public)", description = "Help-center search, articles and feedback for readers: no sign-in, any origin"),
        (name = "bot", description = "The support bot: settings, trying it, training examples and analytics"),
        (name = "security", description = "The security shield's settings, and the public official verification service (no sign-in, any origin)"),
        (name = "chat", description = "Live chat: the widget's configuration and its WebSocket (protocol in docs/chat-protocol.md)"),
    )
)]
pub struct ApiDoc;

pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

/// Completes every operation's error answers as they really are: problem bodies are
/// `application/problem+json`, and the statuses any API route may give (bad JSON, no session,
/// no permission, too large, wrong media type, invalid fields, lockouts) are listed on each.
pub struct ProblemResponses;

impl utoipa::Modify for ProblemResponses {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
        let problem = || ContentBuilder::new().schema(Some(RefOr::Ref(Ref::from_schema_name("Problem")))).build();
        let common: [(&str, &str); 7] = [
            ("400", "Malformed JSON, query or header (`malformed_json`, `invalid_query`, `invalid_idempotency_key`)"),
            ("401", "Not signed in, or the token is invalid (`unauthenticated`, `invalid_token`)"),
            ("403", "Not allowed (`forbidden`, `insufficient_scope`, `csrf_failed`, `two_factor_enrolment_required`)"),
            ("413", "The body is too large (`payload_too_large`)"),
            ("415", "The body is not JSON (`unsupported_media_type`)"),
            ("422", "The body has the wrong shape or invalid values (`invalid_body`, `validation_failed`)"),
            ("429", "Too many failed sign-ins from this address (`too_many_attempts`)"),
        ];
        for item in doc.paths.paths.values_mut() {
            let ops = [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch];
            for op in ops.into_iter().flatten() {
                for resp in op.responses.responses.values_mut() {
                    if let RefOr::T(r) = resp
                        && let Some(c) = r.content.shift_remove("application/json")
                    {
                        let is_problem = matches!(&c.schema, Some(RefOr::Ref(x)) if x.ref_location.ends_with("/Problem"));
                        let key = if is_problem { "application/problem+json" } else { "application/json" };
                        r.content.insert(key.to_string(), c);
                    }
                }
                for (status, description) in common {
                    op.responses.responses.entry(status.to_string()).or_insert_with(|| {
                        RefOr::T(ResponseBuilder::new().description(description).content("application/problem+json", problem()).build())
                    });
                }
            }
        }
    }
}
