//! `nbody`: the Jovian-planets simulation of the Computer Language
//! Benchmarks Game (the Sun and four gas giants, symplectic Euler steps of
//! 0.01 days), the floating-point workload with divisions and square roots.
//!
//! Written as in the reference programs: the same constants, the same
//! operation order, so its energy after `steps` steps matches their
//! published output (checked in the tests). The state is 5 bodies on the
//! stack.

use crate::checksum::Checksum;
use crate::sqrt;

/// The suite's step count.
pub const SUITE_STEPS: i32 = 2_000;
/// Largest step count; a larger one is clamped (one step is a few hundred
/// float operations).
pub const MAX_STEPS: i32 = 1_000_000;

use core::f64::consts::PI;
const SOLAR_MASS: f64 = 4.0 * PI * PI;
const DAYS_PER_YEAR: f64 = 365.24;
const STEP: f64 = 0.01;
const BODIES: usize = 5;

#[derive(Clone, Copy)]
struct Body {
    position: [f64; 3],
    velocity: [f64; 3],
    mass: f64,
}

/// Positions in AU, velocities in AU/day (scaled to AU/year below), masses
/// in solar masses: the Benchmarks Game's initial conditions, digit for
/// digit as published (more digits than an `f64` holds; each literal rounds
/// to the same `f64` as in the reference programs).
#[allow(clippy::excessive_precision)]
const INITIAL: [Body; BODIES] = [
    // Sun
    Body {
        position: [0.0; 3],
        velocity: [0.0; 3],
        mass: SOLAR_MASS,
    },
    // Jupiter
    Body {
        position: [
            4.84143144246472090e+00,
            -1.16032004402742839e+00,
            -1.03622044471123109e-01,
        ],
        velocity: [
            1.66007664274403694e-03 * DAYS_PER_YEAR,
            7.69901118419740425e-03 * DAYS_PER_YEAR,
            -6.90460016972063023e-05 * DAYS_PER_YEAR,
        ],
        mass: 9.54791938424326609e-04 * SOLAR_MASS,
    },
    // Saturn
    Body {
        position: [
            8.34336671824457987e+00,
            4.12479856412430479e+00,
            -4.03523417114321381e-01,
        ],
        velocity: [
            -2.76742510726862411e-03 * DAYS_PER_YEAR,
            4.99852801234917238e-03 * DAYS_PER_YEAR,
            2.30417297573763929e-05 * DAYS_PER_YEAR,
        ],
        mass: 2.85885980666130812e-04 * SOLAR_MASS,
    },
    // Uranus
    Body {
        position: [
            1.28943695621391310e+01,
            -1.51111514016986312e+01,
            -2.23307578892655734e-01,
        ],
        velocity: [
            2.96460137564761618e-03 * DAYS_PER_YEAR,
            2.37847173959480950e-03 * DAYS_PER_YEAR,
            -2.96589568540237556e-05 * DAYS_PER_YEAR,
        ],
        mass: 4.36624404335156298e-05 * SOLAR_MASS,
    },
    // Neptune
    Body {
        position: [
            1.53796971148509165e+01,
            -2.59193146099879641e+01,
            1.79258772950371181e-01,
        ],
        velocity: [
            2.68067772490389322e-03 * DAYS_PER_YEAR,
            1.62824170038242295e-03 * DAYS_PER_YEAR,
            -9.51592254519715870e-05 * DAYS_PER_YEAR,
        ],
        mass: 5.15138902046611451e-05 * SOLAR_MASS,
    },
];

/// Simulate `steps` steps (clamped to `0..=MAX_STEPS`); return a checksum of
/// the final energy and of every body's position and velocity bits. The
/// second argument is ignored.
pub fn run(steps: i32, _unused: i32) -> i32 {
    let mut bodies = INITIAL;
    offset_momentum(&mut bodies);
    for _ in 0..steps.clamp(0, MAX_STEPS) {
        advance(&mut bodies);
    }
    let mut sum = Checksum::new();
    sum.float(energy(&bodies));
    for body in &bodies {
        body.position.iter().for_each(|&x| sum.float(x));
        body.velocity.iter().for_each(|&v| sum.float(v));
    }
    sum.finish()
}

/// Give the Sun the momentum that makes the system's total zero.
fn offset_momentum(bodies: &mut [Body; BODIES]) {
    let mut momentum = [0.0; 3];
    for body in bodies.iter() {
        for (p, v) in momentum.iter_mut().zip(body.velocity) {
            *p += v * body.mass;
        }
    }
    for (v, p) in bodies[0].velocity.iter_mut().zip(momentum) {
        *v = -p / SOLAR_MASS;
    }
}

fn advance(bodies: &mut [Body; BODIES]) {
    for i in 0..BODIES {
        let (head, tail) = bodies.split_at_mut(i + 1);
        let a = &mut head[i];
        for b in tail.iter_mut() {
            let dx = a.position[0] - b.position[0];
            let dy = a.position[1] - b.position[1];
            let dz = a.position[2] - b.position[2];
            let distance_squared = dx * dx + dy * dy + dz * dz;
            let distance = sqrt(distance_squared);
            let magnitude = STEP / (distance_squared * distance);
            let a_factor = a.mass * magnitude;
            let b_factor = b.mass * magnitude;
            a.velocity[0] -= dx * b_factor;
            a.velocity[1] -= dy * b_factor;
            a.velocity[2] -= dz * b_factor;
            b.velocity[0] += dx * a_factor;
            b.velocity[1] += dy * a_factor;
            b.velocity[2] += dz * a_factor;
        }
    }
    for body in bodies.iter_mut() {
        for (x, v) in body.position.iter_mut().zip(body.velocity) {
            *x += STEP * v;
        }
    }
}

fn energy(bodies: &[Body; BODIES]) -> f64 {
    let mut e = 0.0;
    for (i, a) in bodies.iter().enumerate() {
        let [vx, vy, vz] = a.velocity;
        e += 0.5 * a.mass * (vx * vx + vy * vy + vz * vz);
        for b in &bodies[i + 1..] {
            let dx = a.position[0] - b.position[0];
            let dy = a.position[1] - b.position[1];
            let dz = a.position[2] - b.position[2];
            e -= a.mass * b.mass / sqrt(dx * dx + dy * dy + dz * dz);
        }
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    fn energy_after(steps: i32) -> f64 {
        let mut bodies = INITIAL;
        offset_momentum(&mut bodies);
        for _ in 0..steps {
            advance(&mut bodies);
        }
        energy(&bodies)
    }

    #[test]
    fn energies_match_the_benchmarks_game_output() {
        // The reference output for n = 1000 prints these to 9 decimals.
        assert!((energy_after(0) - -0.169075164).abs() < 5e-10);
        assert!((energy_after(1000) - -0.169087605).abs() < 5e-10);
    }

    #[test]
    fn energy_is_nearly_conserved_over_the_suite_run() {
        let drift = (energy_after(SUITE_STEPS) - energy_after(0)).abs();
        assert!(drift < 1e-4, "drift {drift}");
    }
}
