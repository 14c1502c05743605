// Entry point Terraform starts (through the terraform-provider-obbackup_v* wrapper).
import { serve } from './plugin/serve.js';
import { obbackupProvider } from './provider.js';

void serve(obbackupProvider(), { name: 'terraform-provider-obbackup' });
