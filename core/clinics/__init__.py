"""What the platform does with whole clinics: onboarding (with the first admin's invitation),
suspension, usage and provider health for operators, and the public directory."""
