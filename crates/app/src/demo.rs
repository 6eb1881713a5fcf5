//! Demo data for `kefu serve --demo`. Seeding is additive and idempotent: each capability adds
//! its own part, and a database that already holds real data is never touched.

use crate::agents::NewAgentRequest;
use crate::{App, AppError, AppResult};
use kefu_domain::Role;
use kefu_store::micros;

const DEMO_MARKER: &str = "demo";
pub const DEMO_PASSWORD: &str = "kefu-demo-pass";

pub struct DemoAgent {
    pub role: Role,
    pub email: &'static str,
    pub name: &'static str,
}

pub const DEMO_AGENTS: &[DemoAgent] = &[
    DemoAgent { role: Role::Admin, email: "admin@nebula-ex.com", name: "Ada Admin" },
    DemoAgent { role: Role::Supervisor, email: "supervisor@nebula-ex.com", name: "林巍 Lin Wei" },
    DemoAgent { role: Role::Agent, email: "agent@nebula-ex.com", name: "陈静 Chen Jing" },
];

#[derive(Debug, PartialEq, Eq)]
pub enum DemoOutcome {
    /// A new, empty database was filled with demo data.
    Seeded,
    /// The database is a demo database already; missing demo parts were added.
    Existing,
}

impl App {
    /// Seeds demo data, or refuses when the database holds data that is not a demo's.
    pub async fn seed_demo(&self) -> AppResult<DemoOutcome> {
        let marked = self.store().setting(DEMO_MARKER).await?.is_some();
        if !marked && self.store().count_agents().await? > 0 {
            return Err(AppError::RealDataPresent);
        }
        if !marked {
            self.store().put_setting(DEMO_MARKER, "{\"seeded\":true}", micros(self.now())).await?;
        }
        for a in DEMO_AGENTS {
            if self.store().agent_by_email(a.email).await?.is_none() {
                self.create_agent_as_operator(NewAgentRequest {
                    email: a.email.into(),
                    name: a.name.into(),
                    role: a.role.as_str().into(),
                    password: DEMO_PASSWORD.into(),
                })
                .await?;
            }
        }
        Ok(if marked { DemoOutcome::Existing } else { DemoOutcome::Seeded })
    }
}
