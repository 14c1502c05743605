// Entry point Terraform starts (through the terraform-provider-obbackup_v* wrapper). The provider's
// resources load after the handshake line is out (see serve()).
import { serve } from './plugin/serve.js';

void serve(() => import('./provider.js').then((m) => m.obbackupProvider()), { name: 'terraform-provider-obbackup' });
