//! Small real gRPC servers standing in for Profiles and Scoring: in memory,
//! recording every call, and insisting on the internal credential the way the
//! real services do.

use std::{
    collections::{HashMap, HashSet},
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use rapport_proto::v1::{
    profiles_service_server::{ProfilesService, ProfilesServiceServer},
    scoring_service_server::{ScoringService, ScoringServiceServer},
    *,
};
use tokio::net::TcpListener;
use tonic::{Request, Response, Status};
use uuid::Uuid;

/// The tenant an internal call is made for, after checking the credential.
fn tenant_of<T>(request: &Request<T>, token: &str) -> Result<Uuid, Status> {
    let md = request.metadata();
    let auth = md.get("authorization").and_then(|v| v.to_str().ok());
    if auth != Some(format!("Bearer {token}").as_str()) {
        return Err(Status::unauthenticated("internal credential required"));
    }
    md.get("x-rapport-tenant")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| Uuid::parse_str(v).ok())
        .ok_or_else(|| Status::unauthenticated("x-rapport-tenant required"))
}

/// What the fake Profiles knows and was asked.
#[derive(Default)]
pub struct ProfilesState {
    /// (tenant, source, external id) -> customer.
    pub identities: HashMap<(Uuid, String, String), Uuid>,
    /// (tenant, customer).
    pub customers: HashSet<(Uuid, Uuid)>,
    /// Every ResolveIdentities call: tenant and request.
    pub resolve_calls: Vec<(Uuid, ResolveIdentitiesRequest)>,
    /// Every GetCustomer call: tenant and customer id.
    pub get_calls: Vec<(Uuid, String)>,
    /// (tenant, customer) -> parent account.
    pub parents: HashMap<(Uuid, Uuid), Uuid>,
}

/// An in-memory Profiles implementing what ingestion calls.
#[derive(Clone)]
pub struct FakeProfiles {
    pub state: Arc<Mutex<ProfilesState>>,
    token: String,
}

impl FakeProfiles {
    /// Serves on a free port; returns the fake and its address.
    pub async fn start(token: &str) -> (FakeProfiles, SocketAddr) {
        let fake = FakeProfiles {
            state: Arc::default(),
            token: token.to_owned(),
        };
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let service = ProfilesServiceServer::new(fake.clone());
        tokio::spawn(
            tonic::transport::Server::builder()
                .add_service(service)
                .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
        );
        (fake, addr)
    }

    /// A customer of `tenant` known to Profiles.
    pub fn add_customer(&self, tenant: Uuid) -> Uuid {
        let id = Uuid::new_v4();
        self.state.lock().unwrap().customers.insert((tenant, id));
        id
    }

    /// Deletes the customer holding an identity (as an erasure or a merge
    /// would), identities and all; the customer's id.
    pub fn delete_customer_of(&self, tenant: Uuid, source: &str, external_id: &str) -> Uuid {
        let mut state = self.state.lock().unwrap();
        let key = (tenant, source.to_owned(), external_id.to_owned());
        let id = state.identities.remove(&key).expect("a known identity");
        state.identities.retain(|_, c| *c != id);
        state.customers.remove(&(tenant, id));
        id
    }

    /// A customer of `tenant` known by an identity, under `parent` if given.
    pub fn add_identity(
        &self,
        tenant: Uuid,
        source: &str,
        external_id: &str,
        parent: Option<Uuid>,
    ) -> Uuid {
        let id = Uuid::new_v4();
        let mut state = self.state.lock().unwrap();
        state
            .identities
            .insert((tenant, source.to_owned(), external_id.to_owned()), id);
        state.customers.insert((tenant, id));
        if let Some(p) = parent {
            state.parents.insert((tenant, id), p);
        }
        id
    }

    /// The customer an identity resolved to, if any.
    pub fn customer_of(&self, tenant: Uuid, source: &str, external_id: &str) -> Option<Uuid> {
        let state = self.state.lock().unwrap();
        state
            .identities
            .get(&(tenant, source.to_owned(), external_id.to_owned()))
            .copied()
    }
}

fn unused() -> Status {
    Status::unimplemented("not called by ingestion")
}

/// Implements a service for a fake: the calls it answers as written, and
/// the `unused` ones (request type -> response type) refused with
/// [`unused`].
macro_rules! fake_service {
    (
        impl $service:ident for $fake:ident { $($answered:tt)* }
        unused { $($call:ident($request:ident) -> $response:ident,)* }
    ) => {
        #[tonic::async_trait]
        impl $service for $fake {
            $($answered)*
            $(
                async fn $call(
                    &self,
                    _: Request<rapport_proto::v1::$request>,
                ) -> Result<Response<rapport_proto::v1::$response>, Status> {
                    Err(unused())
                }
            )*
        }
    };
}

fake_service! {
    impl ProfilesService for FakeProfiles {
        async fn resolve_identities(
            &self,
            request: Request<ResolveIdentitiesRequest>,
        ) -> Result<Response<ResolveIdentitiesResponse>, Status> {
            let tenant = tenant_of(&request, &self.token)?;
            let req = request.into_inner();
            let mut state = self.state.lock().unwrap();
            state.resolve_calls.push((tenant, req.clone()));
            let mut results = Vec::new();
            for identity in req.identities {
                let key = (tenant, identity.source, identity.external_id);
                let result = match state.identities.get(&key) {
                    Some(id) => ResolvedIdentity {
                        customer_id: id.to_string(),
                        created: false,
                    },
                    None if req.create_missing => {
                        let id = Uuid::new_v4();
                        state.identities.insert(key, id);
                        state.customers.insert((tenant, id));
                        ResolvedIdentity {
                            customer_id: id.to_string(),
                            created: true,
                        }
                    }
                    None => ResolvedIdentity::default(),
                };
                results.push(result);
            }
            let known_customer_ids = req
                .customer_ids
                .iter()
                .filter(|id| Uuid::parse_str(id).is_ok_and(|u| state.customers.contains(&(tenant, u))))
                .cloned()
                .collect();
            Ok(Response::new(ResolveIdentitiesResponse {
                results,
                known_customer_ids,
            }))
        }

        async fn get_customer(
            &self,
            request: Request<GetCustomerRequest>,
        ) -> Result<Response<GetCustomerResponse>, Status> {
            let tenant = tenant_of(&request, &self.token)?;
            let id = request.into_inner().customer_id;
            let mut state = self.state.lock().unwrap();
            state.get_calls.push((tenant, id.clone()));
            let known = Uuid::parse_str(&id).is_ok_and(|u| state.customers.contains(&(tenant, u)));
            if !known {
                return Err(Status::not_found("customer not found"));
            }
            let parent = Uuid::parse_str(&id)
                .ok()
                .and_then(|u| state.parents.get(&(tenant, u)))
                .map(Uuid::to_string)
                .unwrap_or_default();
            let customer = Customer {
                id,
                parent_id: parent,
                ..Default::default()
            };
            Ok(Response::new(GetCustomerResponse {
                customer: Some(customer),
            }))
        }
    }
    unused {
        create_customer(CreateCustomerRequest) -> CreateCustomerResponse,
        update_customer(UpdateCustomerRequest) -> UpdateCustomerResponse,
        delete_customer(DeleteCustomerRequest) -> DeleteCustomerResponse,
        list_customers(ListCustomersRequest) -> ListCustomersResponse,
        lookup_customer(LookupCustomerRequest) -> LookupCustomerResponse,
        add_identity(AddIdentityRequest) -> AddIdentityResponse,
        set_consent(SetConsentRequest) -> SetConsentResponse,
        upsert_customers(UpsertCustomersRequest) -> UpsertCustomersResponse,
        export_customer(ExportCustomerRequest) -> ExportCustomerResponse,
        erase_customer(EraseCustomerRequest) -> EraseCustomerResponse,
    }
}

/// An in-memory Scoring recording every change delivered to it.
#[derive(Clone)]
pub struct FakeScoring {
    /// (tenant, change) in delivery order.
    pub received: Arc<Mutex<Vec<(Uuid, ChangeEvent)>>>,
    /// (tenant, customer id) -> service tier, as BatchGetScores answers.
    pub tiers: Arc<Mutex<HashMap<(Uuid, String), String>>>,
    token: String,
}

impl FakeScoring {
    /// Serves on `listener`.
    pub fn start(token: &str, listener: TcpListener) -> FakeScoring {
        let fake = FakeScoring {
            received: Arc::default(),
            tiers: Arc::default(),
            token: token.to_owned(),
        };
        let service = ScoringServiceServer::new(fake.clone());
        tokio::spawn(
            tonic::transport::Server::builder()
                .add_service(service)
                .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
        );
        fake
    }

    /// The change ids received so far.
    pub fn ids(&self) -> Vec<String> {
        self.received
            .lock()
            .unwrap()
            .iter()
            .map(|(_, c)| c.id.clone())
            .collect()
    }
}

fake_service! {
    impl ScoringService for FakeScoring {
        async fn apply_changes(
            &self,
            request: Request<ApplyChangesRequest>,
        ) -> Result<Response<ApplyChangesResponse>, Status> {
            let tenant = tenant_of(&request, &self.token)?;
            let changes = request.into_inner().changes;
            let applied = changes.len() as u32;
            self.received
                .lock()
                .unwrap()
                .extend(changes.into_iter().map(|c| (tenant, c)));
            Ok(Response::new(ApplyChangesResponse {
                applied,
                ..Default::default()
            }))
        }
        async fn batch_get_scores(
            &self,
            request: Request<BatchGetScoresRequest>,
        ) -> Result<Response<BatchGetScoresResponse>, Status> {
            let tenant = tenant_of(&request, &self.token)?;
            let tiers = self.tiers.lock().unwrap();
            let scores = request
                .into_inner()
                .customer_ids
                .into_iter()
                .filter_map(|id| {
                    let tier = tiers.get(&(tenant, id.clone()))?.clone();
                    Some(Score { customer_id: id, tier, ..Default::default() })
                })
                .collect();
            Ok(Response::new(BatchGetScoresResponse { scores, ..Default::default() }))
        }
    }
    unused {
        get_score(GetScoreRequest) -> GetScoreResponse,
        list_scores(ListScoresRequest) -> ListScoresResponse,
        summarize_scores(SummarizeScoresRequest) -> SummarizeScoresResponse,
        fit_models(FitModelsRequest) -> FitModelsResponse,
        get_model_fit(GetModelFitRequest) -> GetModelFitResponse,
        list_model_fits(ListModelFitsRequest) -> ListModelFitsResponse,
        evaluate_models(EvaluateModelsRequest) -> EvaluateModelsResponse,
        get_scoring_settings(GetScoringSettingsRequest) -> GetScoringSettingsResponse,
        update_scoring_settings(UpdateScoringSettingsRequest) -> UpdateScoringSettingsResponse,
        get_customer_equity(GetCustomerEquityRequest) -> GetCustomerEquityResponse,
        list_dead_letters(ListDeadLettersRequest) -> ListDeadLettersResponse,
        redrive_dead_letters(RedriveDeadLettersRequest) -> RedriveDeadLettersResponse,
        export_customer_scores(ExportCustomerScoresRequest) -> ExportCustomerScoresResponse,
        erase_customer_scores(EraseCustomerScoresRequest) -> EraseCustomerScoresResponse,
    }
}
