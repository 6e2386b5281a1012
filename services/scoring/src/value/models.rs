//! The fitted models as the service uses them: which purchase models exist,
//! turning stored parameters back into models, and the lifetime value of any
//! of them.

use rapport_proto::v1::ModelKind;
use rapport_science::{
    BgNbd, BgNbdParams, CustomerHistory, GammaGamma, GammaGammaParams, LifetimeValue, MbgNbd,
    MbgNbdParams, ParetoNbd, ParetoNbdParams, PredictError, ValueAssumptions, ValueError,
    evaluate::PurchaseModel,
};

use crate::repo::models::Parameter;

/// Stored name of the spend model.
pub const GAMMA_GAMMA: &str = "gamma_gamma";

/// The purchase models, in the order they are preferred when no evaluation
/// has chosen one.
// The variants are the models' published names, NBD suffix and all.
#[allow(clippy::enum_variant_names)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PurchaseKind {
    /// Fader, Hardie & Lee (2005).
    BgNbd,
    /// Batislam, Denizel & Filiztekin (2007): dropout possible at the first purchase too.
    MbgNbd,
    /// Schmittlein, Morrison & Colombo (1987): dropout at any time.
    ParetoNbd,
}

impl PurchaseKind {
    /// Every purchase model.
    pub const ALL: [PurchaseKind; 3] = [
        PurchaseKind::BgNbd,
        PurchaseKind::MbgNbd,
        PurchaseKind::ParetoNbd,
    ];

    /// As stored.
    pub fn as_str(self) -> &'static str {
        match self {
            PurchaseKind::BgNbd => "bg_nbd",
            PurchaseKind::MbgNbd => "mbg_nbd",
            PurchaseKind::ParetoNbd => "pareto_nbd",
        }
    }

    /// For people.
    pub fn label(self) -> &'static str {
        match self {
            PurchaseKind::BgNbd => "BG/NBD",
            PurchaseKind::MbgNbd => "MBG/NBD",
            PurchaseKind::ParetoNbd => "Pareto/NBD",
        }
    }

    /// From its stored form.
    pub fn parse(s: &str) -> Option<PurchaseKind> {
        PurchaseKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The contract's enum.
    pub fn to_proto(self) -> ModelKind {
        match self {
            PurchaseKind::BgNbd => ModelKind::BgNbd,
            PurchaseKind::MbgNbd => ModelKind::MbgNbd,
            PurchaseKind::ParetoNbd => ModelKind::ParetoNbd,
        }
    }
}

/// The contract's enum for a stored model name.
pub fn proto_kind(model: &str) -> ModelKind {
    match PurchaseKind::parse(model) {
        Some(k) => k.to_proto(),
        None if model == GAMMA_GAMMA => ModelKind::GammaGamma,
        None => ModelKind::Unspecified,
    }
}

/// A purchase model ready to predict.
#[allow(clippy::enum_variant_names)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Purchase {
    /// BG/NBD.
    BgNbd(BgNbd),
    /// MBG/NBD.
    MbgNbd(MbgNbd),
    /// Pareto/NBD.
    ParetoNbd(ParetoNbd),
}

impl Purchase {
    /// Which model.
    pub fn kind(&self) -> PurchaseKind {
        match self {
            Purchase::BgNbd(_) => PurchaseKind::BgNbd,
            Purchase::MbgNbd(_) => PurchaseKind::MbgNbd,
            Purchase::ParetoNbd(_) => PurchaseKind::ParetoNbd,
        }
    }

    /// The model from stored parameters; `None` if they are not the model's.
    pub fn from_parameters(kind: PurchaseKind, p: &[Parameter]) -> Option<Purchase> {
        let get = |name: &str| p.iter().find(|x| x.name == name).map(|x| x.value);
        let (r, alpha) = (get("r")?, get("alpha")?);
        Some(match kind {
            PurchaseKind::BgNbd => {
                let (a, b) = (get("a")?, get("b")?);
                Purchase::BgNbd(BgNbd::new(BgNbdParams { r, alpha, a, b }).ok()?)
            }
            PurchaseKind::MbgNbd => {
                let (a, b) = (get("a")?, get("b")?);
                Purchase::MbgNbd(MbgNbd::new(MbgNbdParams { r, alpha, a, b }).ok()?)
            }
            PurchaseKind::ParetoNbd => {
                let (s, beta) = (get("s")?, get("beta")?);
                Purchase::ParetoNbd(ParetoNbd::new(ParetoNbdParams { r, alpha, s, beta }).ok()?)
            }
        })
    }

    /// Probability the customer is still active.
    pub fn probability_alive(&self, h: &CustomerHistory) -> Result<f64, PredictError> {
        match self {
            Purchase::BgNbd(m) => m.probability_alive(h),
            Purchase::MbgNbd(m) => m.probability_alive(h),
            Purchase::ParetoNbd(m) => m.probability_alive(h),
        }
    }

    /// The model behind the common prediction interface.
    pub fn as_dyn(&self) -> &dyn PurchaseModel {
        match self {
            Purchase::BgNbd(m) => m,
            Purchase::MbgNbd(m) => m,
            Purchase::ParetoNbd(m) => m,
        }
    }

    /// Discounted lifetime value under whichever model was chosen.
    pub fn lifetime_value(
        &self,
        h: &CustomerHistory,
        order_value: f64,
        a: &ValueAssumptions,
    ) -> Result<LifetimeValue, ValueError> {
        rapport_science::lifetime_value(self.as_dyn(), h, order_value, a)
    }
}

/// The spend model from stored parameters.
pub fn spend_from_parameters(p: &[Parameter]) -> Option<GammaGamma> {
    let get = |name: &str| p.iter().find(|x| x.name == name).map(|x| x.value);
    GammaGamma::new(GammaGammaParams {
        p: get("p")?,
        q: get("q")?,
        v: get("v")?,
    })
    .ok()
}
